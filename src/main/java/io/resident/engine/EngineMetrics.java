package io.resident.engine;

import java.time.Duration;

/**
 * What the engine reports as it runs, for metrics. Called on the engine thread or a submitting thread: keep
 * implementations quick and thread-safe. Gauges (running, waiting, KV-cache use) read {@link Engine#stats()}.
 */
public interface EngineMetrics {

    EngineMetrics NONE = new EngineMetrics() {};

    /** A request got a slot after waiting this long. */
    default void admitted(Duration queueWait) {}

    /** A request was turned away busy. */
    default void rejected() {}

    /** A request's whole prompt is in the KV cache. */
    default void prefilled(int promptTokens) {}

    /** A request's first generated token, this long after submission (queue wait and prefill included). */
    default void firstToken(Duration timeToFirstToken) {}

    /** A later generated token, this long after the one before it. */
    default void interToken(Duration latency) {}

    /** A reply ended normally or by cancellation, this long after submission. */
    default void finished(FinishReason reason, Duration duration) {}

    /** A reply failed: the step it was in threw, or the engine died. */
    default void failed(Throwable cause) {}

    /** A request was first given KV-cache blocks; this many of its prompt tokens came from the prefix cache. */
    default void prefixCacheQueried(int promptTokens, int cachedTokens) {}

    /** A running sequence gave its blocks back to be recomputed later, as blocks ran out. */
    default void preempted() {}
}
