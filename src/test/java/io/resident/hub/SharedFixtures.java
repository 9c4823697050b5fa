package io.resident.hub;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The fixtures shared beside the repository (../shared/fixtures; -Dresident.shared.dir points elsewhere). */
final class SharedFixtures {

    private SharedFixtures() {
    }

    /** The tiny ChatGLM3 checkpoint: config, tokenizer files, two safetensors shards and their index. */
    static Path chatglm3Tiny() {
        Path shared = Path.of(System.getProperty("resident.shared.dir", "../shared"));
        Path dir = shared.resolve("fixtures/chatglm3-6b-tiny").toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            fail("The shared fixture " + dir + " is missing: the tests expect ../shared/fixtures beside the repository"
                    + " (or -Dresident.shared.dir=<folder holding fixtures/>)");
        }
        return dir;
    }

    /** Every file of a fixture directory by name. */
    static Map<String, byte[]> files(Path dir) {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> paths = Files.list(dir)) {
            for (Path path : paths.toList()) {
                files.put(path.getFileName().toString(), Files.readAllBytes(path));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
