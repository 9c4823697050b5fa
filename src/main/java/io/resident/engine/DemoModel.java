package io.resident.engine;

import ai.djl.ndarray.types.DataType;
import io.resident.model.CausalLM;
import io.resident.model.GenerationDefaults;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoader;
import io.resident.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The built-in demo model, served when no real model is available: a tiny Qwen2-shape network with seeded random
 * weights and Qwen3's real tokenizer (packed into the app at build time). It exists so the service, its API and its
 * page can be tried anywhere; everything that shows the model says it is a demo. Its replies are noise made of
 * words: the output head's rows of the tokenizer's lowercase words and punctuation marks are scaled up, so that those
 * are the likely tokens, and it samples by default. The head is untied: a tied one would make each token its own
 * likeliest successor.
 */
public final class DemoModel {

    /** Qwen3's embedding rows: its tokenizer's ids all fall below this. */
    static final int VOCAB_SIZE = 151_936;
    static final long SEED = 20231027L;
    /** Sampling at 0.8 by default, so that a first reply on the page or the API is varied text. */
    static final GenerationDefaults SAMPLING = new GenerationDefaults(List.of(), true, 0.8, 0, 1.0, 1.0, 0);
    /** A lowercase word with its leading space, as Qwen3's tokenizer has tens of thousands, or a punctuation mark. */
    private static final Pattern WORD = Pattern.compile(" [a-z]{2,}|[.,;!?]");
    /** Their head rows' scale: logits spread over a few units, far above every other token's. */
    private static final float WORD_SCALE = 20f;
    private static final String RESOURCES = "/io/resident/demo/qwen3/";
    private static final List<String> FILES = List.of("tokenizer.json", "tokenizer_config.json");

    private DemoModel() {}

    /** The tokenizer files, copied out of the app's resources into a temporary directory. */
    public static Path tokenizerDirectory() {
        try {
            Path dir = Files.createTempDirectory("resident-demo");
            for (String file : FILES) {
                try (InputStream in = DemoModel.class.getResourceAsStream(RESOURCES + file)) {
                    if (in == null) {
                        throw new StartupException("the demo model's " + file + " is missing from the app: rebuild it with ./mvnw package");
                    }
                    Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
                dir.resolve(file).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the demo model's tokenizer", e);
        }
    }

    static ModelConfig config(Tokenizer tokenizer) {
        return ModelLoader.demoConfig(VOCAB_SIZE, List.copyOf(tokenizer.stopIds()), SAMPLING);
    }

    /** WORD_SCALE for each word token of the tokenizer, 1 for every other row. */
    static float[] headRowScale(Tokenizer tokenizer) {
        float[] scale = new float[VOCAB_SIZE];
        for (int id = 0; id < VOCAB_SIZE; id++) {
            // the raw bytes, not tokenText: a map lookup where decoding each of 151,936 ids takes seconds
            byte[] bytes = tokenizer.tokenBytes(id); // null for special tokens and ids past the tokenizer's
            scale[id] = bytes != null && WORD.matcher(new String(bytes, StandardCharsets.ISO_8859_1)).matches() ? WORD_SCALE : 1f;
        }
        return scale;
    }

    static long weightBytes(ModelConfig config, DataType dtype) {
        long embeddingAndHead = 2L * config.vocabSize() * config.hiddenSize();
        long layer = 4L * config.hiddenSize() * config.hiddenSize() + 3L * config.hiddenSize() * config.intermediateSize();
        return (embeddingAndHead + config.layers() * layer) * dtype.getNumOfBytes();
    }

    static CausalLM load(ModelConfig config, Tokenizer tokenizer, String device, String dtype, int blocks, int maxContext) {
        return ModelLoader.random(config, SEED, headRowScale(tokenizer), device, dtype, blocks, KvCacheSizing.BLOCK_SIZE,
                maxContext);
    }
}
