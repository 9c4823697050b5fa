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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The built-in demo model, served when no real model is available: a tiny Qwen2-shape network with seeded random
 * weights and Qwen3's real tokenizer (packed into the app at build time). It exists so the service, its API and its
 * page can be tried anywhere; everything that shows the model says it is a demo. It samples by default, so that its
 * replies are varied noise.
 */
public final class DemoModel {

    /** Qwen3's embedding rows: its tokenizer's ids all fall below this. */
    static final int VOCAB_SIZE = 151_936;
    static final long SEED = 20231027L;
    /** Sampling at 0.8 by default, so that a first reply on the page or the API is varied text. */
    static final GenerationDefaults SAMPLING = new GenerationDefaults(List.of(), true, 0.8, 0, 1.0, 1.0, 0);
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

    static long weightBytes(ModelConfig config, DataType dtype) {
        long embedding = (long) config.vocabSize() * config.hiddenSize();
        long layer = 4L * config.hiddenSize() * config.hiddenSize() + 3L * config.hiddenSize() * config.intermediateSize();
        return (embedding + config.layers() * layer) * dtype.getNumOfBytes();
    }

    static CausalLM load(ModelConfig config, String device, String dtype, int blocks, int maxContext) {
        return ModelLoader.random(config, SEED, device, dtype, blocks, KvCacheSizing.BLOCK_SIZE, maxContext);
    }
}
