package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM;
import io.resident.model.Fixtures;
import io.resident.model.Paged;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A fixture of one family loaded on the CPU with a real tokenizer. The project's own fixtures carry weights and
 * configs only, so they get the real tokenizer files of their family that the build fetched (Qwen3's for Qwen2,
 * Llama 3.1's for Llama and Mistral): the fixtures' ids all fall inside those vocabularies. Stop ids are the
 * fixture's eos ids plus the tokenizer's end-of-turn ids.
 */
public record TestModel(String name, CausalLM model, Tokenizer tokenizer) implements AutoCloseable {

    /** One fixture per family and weight form. */
    static final List<String> FAMILIES =
            List.of("llama3-tiny", "llama-mqa-tiny", "qwen2-tiny", "mistral-tiny", "qwen2-bf16-tiny", "chatglm3-6b-tiny");

    /** Tokenizers take seconds to load and are thread-safe: one per fixture for the whole test run. */
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    public static TestModel load(String name, int slots, int context) {
        Path dir = dir(name);
        Tokenizer tokenizer = TOKENIZERS.computeIfAbsent(name,
                n -> Tokenizers.load(n.startsWith("chatglm") ? dir : withTokenizer(dir, n)));
        return new TestModel(name, Paged.load(dir, "cpu", "auto", slots, context), tokenizer);
    }

    private static Path dir(String name) {
        return Fixtures.own(name);
    }

    /** models/ of an npm tokenizer package the build unpacked (qwen3, llama3_1). */
    private static Path npmTokenizer(String name) {
        Path dir = Path.of("target/npm", name, "package/models");
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")), dir + " is missing: the build fetches it (./mvnw test)");
        return dir;
    }

    /** A temporary directory with dir's configs and its family's tokenizer files. */
    private static Path withTokenizer(Path dir, String name) {
        Path npm = npmTokenizer(name.startsWith("qwen") ? "qwen3" : "llama3_1");
        try {
            Path temp = Files.createTempDirectory("resident-" + name);
            for (Path file : List.of(dir.resolve("config.json"), dir.resolve("generation_config.json"),
                    npm.resolve("tokenizer.json"), npm.resolve("tokenizer_config.json"))) {
                Files.copy(file, temp.resolve(file.getFileName()));
                temp.resolve(file.getFileName()).toFile().deleteOnExit();
            }
            temp.toFile().deleteOnExit();
            return temp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Engine engine(EngineOptions options) {
        return new Engine(model, tokenizer, options, EngineMetrics.NONE);
    }

    /** Closes the model; the tokenizer stays for other tests. */
    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
