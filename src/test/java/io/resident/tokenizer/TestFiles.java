package io.resident.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the tokenizer files the build fetched (the model fixtures: io.resident.model.Fixtures). */
final class TestFiles {

    private TestFiles() {
    }

    /** models/ of an npm tokenizer package the build unpacked into target/npm (qwen3, llama3_1). */
    static Path npmModels(String name) {
        Path dir = Path.of("target", "npm", name, "package", "models").toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IllegalStateException("tokenizer files missing at " + dir + "; run the build (./mvnw test) so it fetches them");
        }
        return dir;
    }
}
