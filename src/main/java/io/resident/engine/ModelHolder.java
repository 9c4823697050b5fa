package io.resident.engine;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.cuda.CudaUtils;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.resident.ConfigCheck;
import io.resident.ResidentConfig;
import io.resident.hub.HubException;
import io.resident.hub.ModelResolver;
import io.resident.hub.Resolved;
import io.resident.model.CausalLM;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoader;
import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.lang.management.MemoryUsage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Holds the one model every session shares. At boot, on its own thread so that the probes answer meanwhile, it
 * checks the environment, loads the weights, and runs a one-token warm-up; only then is it ready. A startup
 * problem is logged as one line each and ends the process with a non-zero exit code.
 */
@ApplicationScoped
public class ModelHolder {

    private static final Logger LOG = Logger.getLogger(ModelHolder.class);
    private static final double GIB = 1L << 30;

    /** Where the model is in its life. */
    public enum State { LOADING, READY, DRAINING, FAILED, STOPPED }

    private final ResidentConfig config;
    private final ModelResolver resolver;
    private final EngineMetrics metrics;
    private volatile State state = State.LOADING;
    private volatile ServedModel served;
    private volatile boolean stopping;
    /** Whichever of the loader's end and the stop comes last lets the model go, so nothing is freed under the loader. */
    private final Object handover = new Object();
    private boolean loaderRunning;
    private Tokenizer tokenizer;
    private CausalLM model;

    @Inject
    ModelHolder(ResidentConfig config, ModelResolver resolver, Instance<EngineMetrics> metrics) {
        this(config, resolver, metrics.isResolvable() ? metrics.get() : EngineMetrics.NONE);
    }

    ModelHolder(ResidentConfig config, ModelResolver resolver, EngineMetrics metrics) {
        this.config = config;
        this.resolver = resolver;
        this.metrics = metrics;
    }

    /**
     * Settings that are wrong whatever the model end startup here, before the HTTP server opens, with one line each
     * (Quarkus prints a ConfigurationException's message alone and exits 1); the model then loads on its own thread.
     */
    void onStart(@Observes StartupEvent event) {
        List<String> problems = ConfigCheck.problems(config,
                OptionalInt.of(ConfigProvider.getConfig().getValue("quarkus.http.port", Integer.class)));
        if (!problems.isEmpty()) {
            state = State.FAILED;
            throw new ConfigurationException(problems.stream().map(problem -> "startup failed: " + problem)
                    .collect(Collectors.joining(System.lineSeparator())));
        }
        startLoading();
    }

    void startLoading() {
        synchronized (handover) {
            loaderRunning = true;
        }
        Thread.ofPlatform().name("resident-loader").start(this::load);
    }

    public State state() {
        return state;
    }

    /** Loaded, warmed up, and not shutting down. */
    public boolean ready() {
        return state == State.READY;
    }

    /** Loaded and warmed up, draining included: {@link #served()} answers. */
    public boolean loaded() {
        return state == State.READY || state == State.DRAINING;
    }

    /** @throws ModelNotReadyException while the model loads, or after it failed to */
    public ServedModel served() {
        ServedModel current = served;
        if (current == null) {
            throw new ModelNotReadyException(state == State.FAILED
                    ? "the model failed to load; see the service log"
                    : "the model is still loading");
        }
        return current;
    }

    private void load() {
        try {
            served = start();
            if (!stopping) {
                state = State.READY;
            }
        } catch (Stopped e) {
            LOG.info("Stopped while loading the model");
        } catch (StartupException e) {
            fail(e.problems());
        } catch (HubException e) {
            fail(List.of(e.getMessage())); // its message says what to do already
        } catch (RuntimeException | Error e) {
            LOG.debug("startup failure", e);
            fail(List.of(e.getClass().getSimpleName() + ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(List.of("interrupted while loading the model"));
        } finally {
            boolean stopped;
            synchronized (handover) {
                loaderRunning = false;
                stopped = stopping;
            }
            if (stopped) {
                letGo();
            }
        }
    }

    private void fail(List<String> problems) {
        state = State.FAILED;
        problems.forEach(problem -> LOG.error("startup failed: " + problem));
        if (!stopping) { // an exit asked for now would end whatever application runs next, not this one
            Quarkus.asyncExit(1);
        }
    }

    /** The service stopped while the model loaded: the loader quits at the next phase, and lets go what it made. */
    private static final class Stopped extends Exception {
        Stopped() {
            super(null, null, false, false);
        }
    }

    private void quitIfStopping() throws Stopped {
        if (stopping) {
            throw new Stopped();
        }
    }

    private ServedModel start() throws InterruptedException, Stopped {
        Device device = EnvironmentCheck.requireDevice(config.device());
        Resolved resolved = resolver.resolve(config.model().orElse(null));
        quitIfStopping();

        long started = System.nanoTime();
        long usedBeforeLoad = device.isGpu() ? CudaUtils.getGpuMemory(device).getCommitted() : 0;
        String id;
        CausalLM loaded;
        KvCacheSizing.Plan estimate;
        LargestStep largest;
        if (resolved instanceof Resolved.Local local) {
            Path dir = local.directory();
            ModelConfig modelConfig = EnvironmentCheck.requireModelDirectory(dir);
            DataType dtype = EnvironmentCheck.requireDtype(config.dtype(), device, modelConfig);
            tokenizer = EnvironmentCheck.requireTokenizer(dir);
            estimate = estimate(modelConfig, device, dtype, ModelLoader.weightBytes(dir, dtype));
            largest = largestStep(device, estimate.context());
            loaded = ModelLoader.load(dir, config.device(), config.dtype(), largest.blocks(), KvCacheSizing.BLOCK_SIZE,
                    estimate.context());
            id = local.origin().equals("directory") ? dir.getFileName().toString()
                    : config.model().orElseThrow().strip().replaceFirst("@.*$", "");
        } else {
            Resolved.Demo demo = (Resolved.Demo) resolved;
            LOG.warnf("DEMO MODEL: %s, so resident serves its built-in demo model: tiny random weights with a real"
                    + " tokenizer. Its replies are noise; set RESIDENT_MODEL to a model directory or Hugging Face id.",
                    demo.reason());
            tokenizer = EnvironmentCheck.requireTokenizer(DemoModel.tokenizerDirectory());
            ModelConfig modelConfig = DemoModel.config(tokenizer);
            DataType dtype = EnvironmentCheck.requireDtype(config.dtype(), device, modelConfig);
            estimate = estimate(modelConfig, device, dtype, DemoModel.weightBytes(modelConfig, dtype));
            largest = largestStep(device, estimate.context());
            loaded = DemoModel.load(modelConfig, tokenizer, config.device(), config.dtype(), largest.blocks(), estimate.context());
            id = ServedModel.DEMO_ID;
        }
        model = loaded;
        long loadNanos = System.nanoTime() - started;
        quitIfStopping();
        allocatePool(loaded, device, estimate, largest, usedBeforeLoad);
        quitIfStopping();

        Engine engine = new Engine(loaded, tokenizer, engineOptions(device), metrics);
        long warmStarted = System.nanoTime();
        engine.generate(new GenerationRequest(tokenizer.chatPrompt(List.of(new Message("user", "Hello"))),
                SamplingParams.greedy(1)));
        long warmNanos = System.nanoTime() - warmStarted;

        ModelConfig shape = loaded.config();
        String dtypeName = dtypeName(EnvironmentCheck.requireDtype(config.dtype(), device, shape));
        LOG.infof("Ready: %s (%s%s), %,d parameters, %s on %s, %d at once, %d KV-cache blocks of %d, context %d;"
                        + " load %.2f s, warm-up %.2f s, %s",
                id, shape.family(), resolved instanceof Resolved.Demo ? ", DEMO: random weights" : "",
                loaded.parameterCount(), dtypeName, deviceName(device), engine.slots(), loaded.blocks(),
                loaded.blockSize(), engine.maxContext(),
                loadNanos / 1e9, warmNanos / 1e9, EnvironmentCheck.memoryUsed(device));
        LOG.infof("Compute path: %s", loaded.acceleration());
        return new ServedModel(id, resolved instanceof Resolved.Demo, shape.family(), deviceName(device), dtypeName,
                engine.maxContext(), loaded.acceleration(), tokenizer, engine, shape.generation());
    }

    /**
     * The pool and context from the shape, before loading: what is left after the weights and an estimate of the
     * largest step's activations (score matrices, gathered keys and values, MLP); on the CPU at most
     * RESIDENT_MAX_BATCH contexts. A context that cannot fit is refused (or shrunk, when unset) before any weight loads.
     */
    private KvCacheSizing.Plan estimate(ModelConfig modelConfig, Device device, DataType dtype, long weightBytes) {
        long available = KvCacheSizing.availableBytes(device, config.readinessVramThreshold());
        int context = Math.min(config.maxContext().orElse(modelConfig.contextLimit()), modelConfig.contextLimit());
        long activations = KvCacheSizing.activationBytes(modelConfig, dtype.getNumOfBytes(),
                largestStep(device, context).rows(), context);
        try {
            return KvCacheSizing.plan(available, weightBytes, KvCacheSizing.bytesPerToken(modelConfig, dtype.getNumOfBytes()),
                    config.maxBatch(), config.maxContext().orElse(0), modelConfig.contextLimit(), activations, !device.isGpu());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new StartupException(e.getMessage());
        }
    }

    /**
     * The largest step the configuration allows, all of it as prompt tokens: a whole prefill chunk, as a step where
     * nothing decodes takes, or the step budget, whose decode and prompt rows run as one forward.
     */
    private LargestStep largestStep(Device device, int context) {
        return LargestStep.of(Math.max(prefillChunk(device), maxStepTokens(device)), context, KvCacheSizing.BLOCK_SIZE);
    }

    /**
     * Runs the largest step once in the model's temporary pool, then allocates the real pool: on a GPU from what is left
     * under the readiness threshold after the memory that step was measured to take; on the CPU, whose memory shows no
     * step's peak, the estimate stands (at most RESIDENT_MAX_BATCH contexts).
     */
    private void allocatePool(CausalLM loaded, Device device, KvCacheSizing.Plan estimate, LargestStep largest,
            long usedBeforeLoad) {
        long usedAfterLoad = device.isGpu() ? CudaUtils.getGpuMemory(device).getCommitted() : 0;
        loaded.step(largest.segments());
        String step = String.format(Locale.ROOT, "the largest step, %d prefill rows over %d positions",
                largest.rows(), loaded.maxContext());
        KvCacheSizing.Plan plan;
        if (device.isGpu()) {
            MemoryUsage gpu = CudaUtils.getGpuMemory(device);
            KvCacheSizing.Measurement measured = new KvCacheSizing.Measurement(
                    (long) (gpu.getMax() * config.readinessVramThreshold()), usedBeforeLoad, usedAfterLoad, gpu.getCommitted(),
                    (long) largest.blocks() * KvCacheSizing.BLOCK_SIZE * estimate.bytesPerToken());
            try {
                plan = KvCacheSizing.measured(measured, estimate.bytesPerToken(), config.maxBatch(),
                        config.maxContext().orElse(0), loaded.maxContext());
            } catch (IllegalStateException e) {
                throw new StartupException(e.getMessage());
            }
            LOG.infof("%s (activations: %.2f GiB measured for %s, plus %.2f GiB slack; %.2f GiB estimated from the shape;"
                            + " GPU memory %.2f of %.2f GiB used before the pool)", plan.describe(),
                    measured.activationBytes() / GIB, step, KvCacheSizing.SLACK_BYTES / GIB, estimate.activationBytes() / GIB,
                    gpu.getCommitted() / GIB, gpu.getMax() / GIB);
        } else {
            plan = estimate;
            LOG.infof("%s (activations estimated from the shape for %s, which ran: the CPU shows no step's peak to"
                    + " measure, so the pool is the estimate's, at most RESIDENT_MAX_BATCH contexts)", plan.describe(), step);
        }
        loaded.allocateCache(plan.blocks());
    }

    private EngineOptions engineOptions(Device device) {
        return new EngineOptions(config.maxBatch(), config.maxWaiting(), config.maxWait(), prefillChunk(device),
                maxStepTokens(device), config.prefixCache());
    }

    private int maxStepTokens(Device device) {
        return config.maxStepTokens().orElse(EngineOptions.defaultMaxStepTokens(device.isGpu(), config.maxBatch()));
    }

    private int prefillChunk(Device device) {
        return config.prefillChunk().orElse(EngineOptions.defaultPrefillChunk(device.isGpu()));
    }

    /** As RESIDENT_DEVICE spells it: cpu or cuda:N. */
    private static String deviceName(Device device) {
        return device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu";
    }

    private static String dtypeName(DataType dtype) {
        return dtype.name().toLowerCase(Locale.ROOT);
    }

    /**
     * On SIGTERM, in Quarkus's pre-shutdown phase (quarkus.shutdown.delay-enabled), while the HTTP server still
     * serves: readiness goes DOWN and the engine admits nothing new; running replies get RESIDENT_DRAIN_TIMEOUT to
     * finish before they are cancelled. Observers of this event with a later priority (the place for WebSocket
     * close frames) run once the replies are over.
     */
    void onShutdownStarted(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownDelayInitiatedEvent event) {
        drain();
    }

    /**
     * After the HTTP server has stopped: drains if that has not happened yet (no pre-shutdown phase), then lets the
     * model go; while it still loads, the loader does that once its current phase ends, never under it.
     */
    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        drain();
        synchronized (handover) {
            stopping = true;
            if (loaderRunning) {
                LOG.info("Stopping while the model loads: it is let go when the loader's current phase ends");
                return;
            }
        }
        letGo();
    }

    private void letGo() {
        ServedModel current = served;
        if (current != null) {
            current.engine().close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        if (model != null) {
            model.close();
        }
        state = State.STOPPED;
    }

    private synchronized void drain() {
        ServedModel current = served;
        if (current == null || state == State.DRAINING) {
            return;
        }
        state = State.DRAINING;
        LOG.infof("Draining: up to %s for %d running replies", config.drainTimeout(), current.engine().stats().running());
        try {
            boolean finished = current.engine().drain(config.drainTimeout());
            LOG.info(finished ? "Drained: every reply finished" : "Drain timeout: the replies left were cancelled");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
