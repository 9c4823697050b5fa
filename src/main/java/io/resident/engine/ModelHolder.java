package io.resident.engine;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.resident.ResidentConfig;
import io.resident.hub.HubException;
import io.resident.hub.ModelResolver;
import io.resident.hub.Resolved;
import io.resident.model.CausalLM;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoader;
import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.interceptor.Interceptor;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * Holds the one model every session shares. At boot, on its own thread so that the probes answer meanwhile, it
 * checks the environment, loads the weights, and runs a one-token warm-up; only then is it ready. A startup
 * problem is logged as one line each and ends the process with a non-zero exit code.
 */
@ApplicationScoped
public class ModelHolder {

    private static final Logger LOG = Logger.getLogger(ModelHolder.class);
    static final int GPU_PREFILL_CHUNK = 2048;
    static final int CPU_PREFILL_CHUNK = 256;

    /** Where the model is in its life. */
    public enum State { LOADING, READY, DRAINING, FAILED }

    private final ResidentConfig config;
    private final ModelResolver resolver;
    private final EngineMetrics metrics;
    private volatile State state = State.LOADING;
    private volatile ServedModel served;
    private CausalLM model;

    ModelHolder(ResidentConfig config, ModelResolver resolver, Instance<EngineMetrics> metrics) {
        this.config = config;
        this.resolver = resolver;
        this.metrics = metrics.isResolvable() ? metrics.get() : EngineMetrics.NONE;
    }

    void onStart(@Observes StartupEvent event) {
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
            state = State.READY;
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
        }
    }

    private void fail(List<String> problems) {
        state = State.FAILED;
        problems.forEach(problem -> LOG.error("startup failed: " + problem));
        Quarkus.asyncExit(1);
    }

    private ServedModel start() throws InterruptedException {
        Device device = EnvironmentCheck.requireDevice(config.device());
        Resolved resolved = resolver.resolve(config.model().orElse(null));

        long started = System.nanoTime();
        String id;
        Tokenizer tokenizer;
        CausalLM loaded;
        if (resolved instanceof Resolved.Local local) {
            Path dir = local.directory();
            ModelConfig modelConfig = EnvironmentCheck.requireModelDirectory(dir);
            DataType dtype = EnvironmentCheck.requireDtype(config.dtype(), device, modelConfig);
            tokenizer = EnvironmentCheck.requireTokenizer(dir);
            KvCacheSizing.Plan plan = plan(modelConfig, device, dtype, ModelLoader.weightBytes(dir, dtype));
            loaded = ModelLoader.load(dir, config.device(), config.dtype(), plan.slots(), plan.context());
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
            KvCacheSizing.Plan plan = plan(modelConfig, device, dtype, DemoModel.weightBytes(modelConfig, dtype));
            loaded = DemoModel.load(modelConfig, config.device(), config.dtype(), plan.slots(), plan.context());
            id = ServedModel.DEMO_ID;
        }
        model = loaded;
        long loadNanos = System.nanoTime() - started;

        Engine engine = new Engine(loaded, tokenizer, engineOptions(device), metrics);
        long warmStarted = System.nanoTime();
        engine.generate(new GenerationRequest(tokenizer.chatPrompt(List.of(new Message("user", "Hello"))),
                SamplingParams.greedy(1)));
        long warmNanos = System.nanoTime() - warmStarted;

        ModelConfig shape = loaded.config();
        String dtypeName = dtypeName(EnvironmentCheck.requireDtype(config.dtype(), device, shape));
        LOG.infof("Ready: %s (%s%s), %,d parameters, %s on %s, %d slots x %d positions; load %.2f s, warm-up %.2f s, %s",
                id, shape.family(), resolved instanceof Resolved.Demo ? ", DEMO: random weights" : "",
                loaded.parameterCount(), dtypeName, deviceName(device), loaded.slots(), loaded.maxContext(),
                loadNanos / 1e9, warmNanos / 1e9, EnvironmentCheck.memoryUsed(device));
        LOG.infof("Compute path: %s", loaded.acceleration());
        return new ServedModel(id, resolved instanceof Resolved.Demo, shape.family(), deviceName(device), dtypeName,
                loaded.maxContext(), loaded.acceleration(), tokenizer, engine, shape.generation());
    }

    private KvCacheSizing.Plan plan(ModelConfig modelConfig, Device device, DataType dtype, long weightBytes) {
        long available = KvCacheSizing.availableBytes(device);
        try {
            KvCacheSizing.Plan plan = KvCacheSizing.plan(available, weightBytes,
                    KvCacheSizing.bytesPerToken(modelConfig, dtype.getNumOfBytes()), config.maxBatch(),
                    config.maxContext().orElse(0), modelConfig.contextLimit(), KvCacheSizing.defaultReserve(available));
            LOG.info(plan.describe());
            return plan;
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new StartupException(e.getMessage());
        }
    }

    private EngineOptions engineOptions(Device device) {
        int prefillChunk = config.prefillChunk().orElse(device.isGpu() ? GPU_PREFILL_CHUNK : CPU_PREFILL_CHUNK);
        return new EngineOptions(config.maxWaiting(), config.maxWait(), prefillChunk);
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

    /** After the HTTP server has stopped: drains if that has not happened yet (no pre-shutdown phase), then lets the model go. */
    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        drain();
        ServedModel current = served;
        if (current != null) {
            current.engine().close();
            current.tokenizer().close();
        }
        if (model != null) {
            model.close();
        }
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
