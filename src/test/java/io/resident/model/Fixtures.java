package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.StreamSupport;

/** Locates the test models under src/test/resources/fixtures (made by src/test/python/make_fixtures.py) and reads their JSON. */
public final class Fixtures {

    private Fixtures() {}

    public static Path own(String name) {
        Path dir = Path.of("src/test/resources/fixtures", name);
        assertTrue(Files.isDirectory(dir), "fixture " + dir + " is missing: run src/test/python/make_fixtures.py");
        return dir;
    }

    public static JsonNode json(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    public static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).asDouble();
        }
        return values;
    }

    static List<int[]> intLists(JsonNode arrays, String field) {
        return StreamSupport.stream(arrays.spliterator(), false).map(n -> ints(n.get(field))).toList();
    }
}
