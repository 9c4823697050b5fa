package io.resident.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoadException;
import io.resident.model.ModelLoader;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.TokenizerLoadException;
import io.resident.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/** The checks startup makes before it loads anything big; each failure is a StartupException with one line per problem. */
final class EnvironmentCheck {

    private static final Logger LOG = Logger.getLogger(EnvironmentCheck.class);
    /** Covers ASCII, CJK, an emoji and digits: a tokenizer that cannot return it unchanged is broken. */
    static final String ROUND_TRIP_TEXT = "Hello, 世界! resident 123 👋";
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)(\\..*)?");

    private EnvironmentCheck() {}

    /** Loads libtorch through DJL, checks its version, and checks that the requested device exists. */
    static Device requireDevice(String requested) {
        Engine engine;
        try {
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new StartupException("libtorch could not be loaded by DJL's PyTorch engine: " + e.getMessage());
        }
        String builtFor = libtorchBuiltFor(engine);
        LOG.infof("Java %s, DJL %s with libtorch %s from %s, %d CUDA GPU(s) visible", Runtime.version(), Engine.getDjlVersion(),
                engine.getVersion(), LibUtils.getLibtorchPath(), engine.getGpuCount());
        String problem = libtorchProblem(engine.getVersion(), builtFor);
        if (problem != null) {
            throw new StartupException(problem);
        }
        if (!engine.getVersion().equals(builtFor)) {
            LOG.warnf("libtorch %s is not the %s that DJL %s's JNI library is built for: it works only with a JNI library"
                    + " compiled against %s (docs/deployment.md)", engine.getVersion(), builtFor, Engine.getDjlVersion(), engine.getVersion());
        }
        try {
            return ModelLoader.device(requested);
        } catch (IllegalArgumentException e) {
            throw new StartupException("RESIDENT_DEVICE=" + requested + ": " + e.getMessage()
                    + (engine.getGpuCount() == 0 ? "; use RESIDENT_DEVICE=cpu (or auto) on a machine without a GPU" : ""));
        }
    }

    /** Why the libtorch DJL loaded cannot serve, or null: resident needs libtorch 2.x. */
    static String libtorchProblem(String loaded, String builtFor) {
        Matcher version = VERSION.matcher(loaded == null ? "" : loaded);
        String fix = "unset PYTORCH_VERSION and PYTORCH_LIBRARY_PATH to use the libtorch " + builtFor + " DJL is built for";
        if (!version.matches()) {
            return "DJL's PyTorch engine reports libtorch version \"" + loaded + "\", which is no version: " + fix;
        }
        if (Integer.parseInt(version.group(1)) < 2) {
            return "libtorch " + loaded + " is too old: resident needs libtorch 2.x; " + fix;
        }
        return null;
    }

    /** The libtorch version DJL's PyTorch engine was released with (its pytorch-engine.properties). */
    private static String libtorchBuiltFor(Engine engine) {
        Properties properties = new Properties();
        try (InputStream in = engine.getClass().getClassLoader().getResourceAsStream("pytorch-engine.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            LOG.debug("no pytorch-engine.properties", e);
        }
        return properties.getProperty("pytorch_version", "unknown");
    }

    static DataType requireDtype(String requested, Device device, ModelConfig config) {
        try {
            return ModelLoader.dtype(requested, device, config.dtype());
        } catch (IllegalArgumentException e) {
            throw new StartupException("RESIDENT_DTYPE=" + requested + ": " + e.getMessage());
        }
    }

    /** config.json readable and of a known architecture, weights complete and untruncated, tokenizer files present. */
    static ModelConfig requireModelDirectory(Path dir) {
        List<String> problems = new ArrayList<>();
        ModelConfig config = null;
        try {
            config = ModelLoader.readConfig(dir);
        } catch (ModelLoadException | IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        try {
            ModelLoader.weightBytes(dir, DataType.FLOAT32);
        } catch (ModelLoadException e) {
            problems.add(e.getMessage());
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json")) && !Files.isRegularFile(dir.resolve("tokenizer.model"))) {
            problems.add(dir + " has no tokenizer.json or tokenizer.model");
        }
        if (!problems.isEmpty()) {
            throw new StartupException(problems);
        }
        return config;
    }

    /** Loads the tokenizer and checks that it gives a mixed-script text back unchanged. */
    static Tokenizer requireTokenizer(Path dir) {
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizers.load(dir);
        } catch (TokenizerLoadException e) {
            throw new StartupException(e.getMessage());
        }
        String back = tokenizer.decode(tokenizer.encode(ROUND_TRIP_TEXT));
        if (!back.equals(ROUND_TRIP_TEXT)) {
            tokenizer.close();
            throw new StartupException("the tokenizer of " + dir + " does not round-trip: \"" + ROUND_TRIP_TEXT
                    + "\" came back as \"" + back + "\"");
        }
        return tokenizer;
    }

    /** Device memory in use, for the startup log: the GPU's, or this process's resident set on the CPU. */
    static String memoryUsed(Device device) {
        if (device.isGpu()) {
            MemoryUsage gpu = CudaUtils.getGpuMemory(device);
            return String.format(Locale.ROOT, "GPU memory %.2f of %.2f GiB used", gib(gpu.getCommitted()), gib(gpu.getMax()));
        }
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("VmRSS:"))
                    .map(line -> String.format(Locale.ROOT, "process memory %.2f GiB",
                            gib(Long.parseLong(line.replaceAll("\\D", "")) * 1024)))
                    .findFirst().orElse("process memory unknown");
        } catch (IOException e) {
            return "process memory unknown";
        }
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
