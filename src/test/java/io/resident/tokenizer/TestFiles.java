package io.resident.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the shared fixtures and the tokenizer files the build fetched, and how they read ids from JSON. */
final class TestFiles {

    private TestFiles() {
    }

    /** ../shared/fixtures beside the clone, or -Dresident.fixtures=DIR. */
    static Path fixtures() {
        Path dir = Path.of(System.getProperty("resident.fixtures", "../shared/fixtures")).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("shared fixtures not found at " + dir + " (set -Dresident.fixtures=DIR)");
        }
        return dir;
    }

    /** models/ of an npm tokenizer package the build unpacked into target/npm (qwen3, llama3_1). */
    static Path npmModels(String name) {
        Path dir = Path.of("target", "npm", name, "package", "models").toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IllegalStateException("tokenizer files missing at " + dir + "; run the build (./mvnw test) so it fetches them");
        }
        return dir;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
