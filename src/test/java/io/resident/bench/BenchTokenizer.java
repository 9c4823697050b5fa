package io.resident.bench;

import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The tokenizers a benchmark streams its replies through. */
final class BenchTokenizer {

    private BenchTokenizer() {}

    /** Qwen3's real tokenizer, as the app packs it for the demo model. */
    static Tokenizer qwen3() throws IOException {
        Path dir = Files.createTempDirectory("resident-bench-tokenizer");
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            try (InputStream in = BenchTokenizer.class.getResourceAsStream("/io/resident/demo/qwen3/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("the demo tokenizer's " + file + " is not on the class path: run ./mvnw package");
                }
                Files.copy(in, dir.resolve(file));
            }
        }
        return Tokenizers.load(dir);
    }
}
