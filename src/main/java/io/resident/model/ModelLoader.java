package io.resident.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jboss.logging.Logger;

/** Builds a {@link CausalLM} from a Hugging Face model directory, or with seeded random weights. */
public final class ModelLoader {

    private static final Logger LOG = Logger.getLogger(ModelLoader.class);
    private static final String ENGINE = "PyTorch";

    private ModelLoader() {}

    /**
     * Loads config.json, generation_config.json and the safetensors weights of dir.
     *
     * @param device     auto, cpu, cuda or cuda:N
     * @param dtype      auto (float32 on the CPU; on a GPU the checkpoint's float16 or float32, bfloat16 with the native
     *                   companion), float32, float16 or bfloat16
     * @param blocks     KV-cache blocks of blockSize positions each, in the pool of every layer
     * @param maxContext the longest sequence; 0 or less means the model's own limit, and more is capped to it
     * @throws ModelLoadException       when the directory does not hold a loadable checkpoint
     * @throws IllegalArgumentException when device or dtype is not one resident can use
     */
    public static CausalLM load(Path dir, String device, String dtype, int blocks, int blockSize, int maxContext) {
        ModelConfig config = readConfig(dir);
        Device dev = device(device);
        DataType compute = dtype(dtype, dev, config.dtype());
        try (Checkpoint checkpoint = new Checkpoint(dir)) {
            NDManager manager = NDManager.newBaseManager(dev, ENGINE);
            try {
                Transformer.Weights weights = Family.named(config.family())
                        .weights(config, new CheckpointWeights(checkpoint, manager, compute));
                return new Transformer(config, manager, compute, weights, blocks, blockSize, context(config, maxContext));
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }

    /**
     * Opens dir's checkpoint without loading it (index, shards, headers, truncation) and returns the bytes its
     * tensors take in dtype, for sizing the KV cache beside them.
     *
     * @throws ModelLoadException when the checkpoint is incomplete or broken
     */
    public static long weightBytes(Path dir, DataType dtype) {
        try (Checkpoint checkpoint = new Checkpoint(dir)) {
            return checkpoint.elements() * dtype.getNumOfBytes();
        }
    }

    /** A model of config's family and shape with seeded random weights (same seed and device, same weights). */
    public static CausalLM random(ModelConfig config, long seed, String device, String dtype, int blocks, int blockSize,
            int maxContext) {
        return random(config, seed, null, device, dtype, blocks, blockSize, maxContext);
    }

    /**
     * Like {@link #random(ModelConfig, long, String, String, int, int, int)}, with each row of an untied LM head
     * multiplied by its entry of headRowScale, so that the tokens scaled up are the likely ones.
     */
    public static CausalLM random(ModelConfig config, long seed, float[] headRowScale, String device, String dtype,
            int blocks, int blockSize, int maxContext) {
        Device dev = device(device);
        DataType compute = dtype(dtype, dev, config.dtype());
        Engine.getEngine(ENGINE).setRandomSeed((int) seed);
        NDManager manager = NDManager.newBaseManager(dev, ENGINE);
        Transformer.Weights weights = Family.named(config.family())
                .weights(config, new RandomWeights(manager, compute, headRowScale));
        return new Transformer(config, manager, compute, weights, blocks, blockSize, context(config, maxContext));
    }

    /** A tiny Qwen2-shape model config (hidden 64, 2 layers, 4 heads over 2 KV heads, an untied head) for the built-in demo. */
    public static ModelConfig demoConfig(int vocabSize, List<Integer> eosTokenIds, GenerationDefaults generation) {
        return new ModelConfig("qwen2", vocabSize, 64, 2, 4, 2, 16, 128, 4096, eosTokenIds, "float32",
                1_000_000.0, 16, null, 1e-6, true, false, 0, generation);
    }

    /** The config.json of dir, with generation_config.json's eos ids and sampling defaults. */
    public static ModelConfig readConfig(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("model directory " + dir + " does not exist");
        }
        ConfigJson json = new ConfigJson(readJson(dir.resolve("config.json"), true));
        JsonNode generationJson = readJson(dir.resolve("generation_config.json"), false);
        GenerationDefaults generation = generationJson == null ? GenerationDefaults.NONE : generation(new ConfigJson(generationJson));
        return Family.of(json).config(json, generation);
    }

    private static GenerationDefaults generation(ConfigJson json) {
        return new GenerationDefaults(
                json.ids("eos_token_id"),
                json.flag("do_sample", false),
                json.number("temperature", 1.0),
                json.integer("top_k", 50),
                json.number("top_p", 1.0),
                json.number("repetition_penalty", 1.0),
                json.integer("max_new_tokens", 0));
    }

    private static JsonNode readJson(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) {
                throw new ModelLoadException(file.getParent() + " has no " + file.getFileName());
            }
            return null;
        }
        try {
            JsonNode node = new ObjectMapper().readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ModelLoadException(file + " does not hold a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ModelLoadException(file + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static int context(ModelConfig config, int requested) {
        int limit = config.contextLimit();
        if (requested > limit) {
            LOG.infof("context %d capped to the model's %d positions%s", requested, limit,
                    config.slidingWindow() > 0 ? " (its sliding window)" : "");
        }
        return requested <= 0 ? limit : Math.min(requested, limit);
    }

    public static Device device(String name) {
        int gpus = Engine.getEngine(ENGINE).getGpuCount();
        String n = name == null ? "auto" : name.trim().toLowerCase();
        if (n.equals("auto")) {
            return gpus > 0 ? Device.gpu() : Device.cpu();
        }
        if (n.equals("cpu")) {
            return Device.cpu();
        }
        if (n.matches("cuda(:\\d+)?")) {
            int index = n.equals("cuda") ? 0 : Integer.parseInt(n.substring(5));
            if (index >= gpus) {
                throw new IllegalArgumentException("device " + name + " asked for, but " + gpus + " CUDA device(s) found");
            }
            return Device.gpu(index);
        }
        throw new IllegalArgumentException("device \"" + name + "\" is not one of auto, cpu, cuda, cuda:N");
    }

    /**
     * Checks a RESIDENT_DTYPE setting before libtorch or a model is loaded: the name, and that bfloat16 can be had
     * at all (a GPU device and the native companion's file).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void checkDtypeSetting(String name, String device) {
        String n = name == null ? "auto" : name.trim().toLowerCase();
        switch (n) {
            case "auto", "float32", "float16" -> { }
            case "bfloat16" -> {
                if (device.trim().equalsIgnoreCase("cpu") || !Files.isRegularFile(NativeOps.libraryPath())) {
                    throw new IllegalArgumentException("dtype bfloat16 needs a GPU and resident's native companion (built with "
                            + NativeOps.BUILD_COMMAND + ", looked for at " + NativeOps.libraryPath() + "): DJL's PyTorch"
                            + " engine has no bfloat16 type; use float16 (GPU) or float32");
                }
            }
            default -> throw new IllegalArgumentException("dtype \"" + name + "\" is not one of auto, float32, float16, bfloat16");
        }
    }

    /**
     * The compute dtype: float32 on the CPU; on a GPU the checkpoint's, where bfloat16 needs the native companion
     * (without it a bf16 checkpoint computes in float16, and the log says so).
     */
    public static DataType dtype(String name, Device device, String checkpointDtype) {
        String n = name == null ? "auto" : name.trim().toLowerCase();
        boolean bf16 = device.isGpu() && NativeOps.load().loaded();
        return switch (n) {
            case "auto" -> {
                if (!device.isGpu() || checkpointDtype.equals("float32")) {
                    yield DataType.FLOAT32;
                }
                if (checkpointDtype.equals("bfloat16") && !bf16) {
                    LOG.warnf("bfloat16 checkpoint computed in float16, without the native companion (%s): values beyond"
                            + " float16's range overflow", NativeOps.BUILD_COMMAND);
                }
                yield checkpointDtype.equals("bfloat16") && bf16 ? DataType.BFLOAT16 : DataType.FLOAT16;
            }
            case "float32" -> DataType.FLOAT32;
            case "float16" -> DataType.FLOAT16;
            case "bfloat16" -> {
                if (!bf16) {
                    throw new IllegalArgumentException("dtype bfloat16 needs a GPU and resident's native companion (built with "
                            + NativeOps.BUILD_COMMAND + "): DJL's PyTorch engine has no bfloat16 type; use float16 (GPU) or float32");
                }
                yield DataType.BFLOAT16;
            }
            default -> throw new IllegalArgumentException("dtype \"" + name + "\" is not one of auto, float32, float16, bfloat16");
        };
    }
}
