package io.resident.bench;

import io.resident.tokenizer.Message;
import io.resident.tokenizer.StreamDecoder;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

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

    /** The same tokenizer with no stop ids, so that every reply runs to its token limit (vLLM's ignore_eos). */
    static Tokenizer withoutStops(Tokenizer tokenizer) {
        return new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return tokenizer.encode(text);
            }

            @Override
            public String decode(int[] ids) {
                return tokenizer.decode(ids);
            }

            @Override
            public int[] chatPrompt(List<Message> messages) {
                return tokenizer.chatPrompt(messages);
            }

            @Override
            public Set<Integer> stopIds() {
                return Set.of();
            }

            @Override
            public String tokenText(int id) {
                return tokenizer.tokenText(id);
            }

            @Override
            public StreamDecoder streamDecoder() {
                return tokenizer.streamDecoder();
            }

            @Override
            public void close() {
                tokenizer.close();
            }
        };
    }
}
