package io.resident.hub;

import io.resident.model.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The fixture the fake Hub serves, and its files by name. */
final class HubFixture {

    private HubFixture() {
    }

    /** The tiny ChatGLM3 checkpoint: config, tokenizer files, two safetensors shards and their index. */
    static Path chatglm3Tiny() {
        return Fixtures.own("chatglm3-6b-tiny").toAbsolutePath().normalize();
    }

    /** Every file of a fixture directory by name, but its golden.json: the reference's outputs are no part of a model repository. */
    static Map<String, byte[]> files(Path dir) {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> paths = Files.list(dir)) {
            for (Path path : paths.filter(p -> !p.endsWith("golden.json")).toList()) {
                files.put(path.getFileName().toString(), Files.readAllBytes(path));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
