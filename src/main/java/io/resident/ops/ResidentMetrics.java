package io.resident.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.resident.ResidentConfig;
import io.resident.engine.Engine;
import io.resident.engine.EngineMetrics;
import io.resident.engine.EngineProfile;
import io.resident.engine.FinishReason;
import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Provider;
import java.time.Duration;
import java.util.function.ToDoubleFunction;

/**
 * The service's Prometheus metrics (resident_*): the engine reports timings and token counts here as it runs;
 * gauges read the engine's and the GPU's state when scraped. Error counts carry their cause as a tag.
 */
@ApplicationScoped
public class ResidentMetrics implements EngineMetrics {

    private final MeterRegistry registry;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer requestDuration;
    private final Timer queueWait;
    private final Timer sessionStore;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter prefixCacheQueries;
    private final Counter prefixCacheHits;
    private final Counter preemptions;

    ResidentMetrics(MeterRegistry registry, Provider<ModelHolder> holder, GpuMemorySource gpu, ResidentConfig config) {
        this.registry = registry;
        timeToFirstToken = histogram("resident.time.to.first.token", "From submission to a reply's first token");
        interTokenLatency = histogram("resident.inter.token.latency", "Between two tokens of one reply");
        requestDuration = histogram("resident.request.duration", "From submission to a reply's end");
        queueWait = histogram("resident.queue.wait", "Waiting for a batch slot");
        // loopback Redis answers in well under a millisecond: buckets from 50 µs
        sessionStore = Timer.builder("resident.session.store.duration")
                .description("A chat turn's reads and writes of its session in the session store").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(50_000)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        promptTokens = Counter.builder("resident.prompt.tokens").description("Prompt tokens prefilled").register(registry);
        generationTokens = Counter.builder("resident.generation.tokens").description("Tokens generated").register(registry);
        engineGauge(holder, "resident.requests.running", "Requests holding a batch slot", stats -> stats.running());
        engineGauge(holder, "resident.requests.waiting", "Requests waiting for a batch slot", stats -> stats.waiting());
        prefixCacheQueries = Counter.builder("resident.prefix.cache.queries")
                .description("Prompt tokens looked up in the prefix cache").register(registry);
        prefixCacheHits = Counter.builder("resident.prefix.cache.hits")
                .description("Prompt tokens whose keys and values came from the prefix cache").register(registry);
        preemptions = Counter.builder("resident.preemptions")
                .description("Running sequences that gave their KV-cache blocks back to be recomputed").register(registry);
        engineGauge(holder, "resident.kv.cache.usage.ratio", "KV-cache blocks held by running requests over the pool",
                stats -> stats.kvBlocks() == 0 ? 0 : stats.kvBlocksUsed() / (double) stats.kvBlocks());
        for (EngineProfile.Phase phase : EngineProfile.Phase.values()) {
            FunctionCounter.builder("resident.engine.thread", holder, h -> engineProfile(h, p -> p.nanos(phase) / 1e9))
                    .baseUnit("seconds").tag("phase", phase.tag())
                    .description("The engine thread's time by phase: schedule, model (forward pass, sampling on the device"
                            + " and the copy of its picks), sample (choices read back), output (handed to the output thread), idle")
                    .register(registry);
        }
        FunctionCounter.builder("resident.engine.steps", holder, h -> engineProfile(h, EngineProfile::steps))
                .description("Model steps the engine ran").register(registry);
        Gauge.builder("resident.gpu.memory.used", gpu, source -> source.read().map(r -> (double) r.used()).orElse(0.0))
                .baseUnit("bytes").description("GPU memory in use on the model's device").register(registry);
        Gauge.builder("resident.gpu.memory.total", gpu, source -> source.read().map(r -> (double) r.total()).orElse(0.0))
                .baseUnit("bytes").description("GPU memory of the model's device").register(registry);
        // so that a dashboard draws the line readiness turns DOWN at
        Gauge.builder("resident.gpu.memory.readiness.threshold", config, ResidentConfig::readinessVramThreshold)
                .description("GPU memory used / total above which readiness turns DOWN").register(registry);
    }

    private Timer histogram(String name, String description) {
        return Timer.builder(name).description(description).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5)).register(registry);
    }

    private void engineGauge(Provider<ModelHolder> holder, String name, String description,
            ToDoubleFunction<Engine.Stats> value) {
        Gauge.builder(name, holder, h -> h.get().loaded() ? value.applyAsDouble(h.get().served().engine().stats()) : 0)
                .description(description).register(registry);
    }

    /** What the engine's profile says, as of its thread's last loop; 0 until the model is loaded. */
    private static double engineProfile(Provider<ModelHolder> holder, ToDoubleFunction<EngineProfile> value) {
        return holder.get().loaded() ? value.applyAsDouble(holder.get().served().engine().profile()) : 0;
    }

    /** A request that failed, by cause: busy, invalid_request, context_overflow, unauthorized, internal, engine. */
    public void error(String cause) {
        Counter.builder("resident.request.errors").tag("cause", cause).description("Requests that ended in an error")
                .register(registry).increment();
    }

    /** The time a finished chat turn spent reading and writing its session. */
    public void sessionStore(Duration time) {
        sessionStore.record(time);
    }

    @Override
    public void admitted(Duration wait) {
        queueWait.record(wait);
    }

    @Override
    public void rejected() {
        error("busy");
    }

    @Override
    public void prefilled(int prompt) {
        promptTokens.increment(prompt);
    }

    // Tokens are counted as they come, so that rates over a scrape interval hold during long replies.
    @Override
    public void firstToken(Duration timeToFirst) {
        timeToFirstToken.record(timeToFirst);
        generationTokens.increment();
    }

    @Override
    public void interToken(Duration latency) {
        interTokenLatency.record(latency);
        generationTokens.increment();
    }

    @Override
    public void finished(FinishReason reason, Duration duration) {
        requestDuration.record(duration);
    }

    @Override
    public void failed(Throwable cause) {
        error("engine");
    }

    @Override
    public void prefixCacheQueried(int promptTokens, int cachedTokens) {
        prefixCacheQueries.increment(promptTokens);
        prefixCacheHits.increment(cachedTokens);
    }

    @Override
    public void preempted() {
        preemptions.increment();
    }
}
