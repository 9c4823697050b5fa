package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.StreamSupport;

/** The shared tiny ChatGLM3 fixture (made with THUDM's own code) and its golden file. */
final class TinyChatGLM {

    private TinyChatGLM() {}

    /** The model directory: -Dresident.shared.fixtures, else ../shared/fixtures beside the repository. */
    static Path dir() {
        Path dir = Path.of(System.getProperty("resident.shared.fixtures", "../shared/fixtures")).resolve("chatglm3-6b-tiny");
        assertTrue(Files.isDirectory(dir), "shared fixture " + dir.toAbsolutePath()
                + " is missing: check out the shared folder beside the repository or set -Dresident.shared.fixtures");
        return dir;
    }

    /** The golden conversations: prompt_ids, output_ids (greedy) and logits_first_steps. */
    static JsonNode conversations() {
        try {
            return new ObjectMapper().readTree(dir().resolveSibling("chatglm3-6b-tiny-golden.json").toFile()).get("conversations");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).asDouble();
        }
        return values;
    }
}
