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

    /** From submission to a request's first token. */
    default void firstToken(Duration timeToFirstToken) {}

    /** Between two tokens of one reply. */
    default void interToken(Duration latency) {}

    /** A reply ended normally or by cancellation. */
    default void finished(FinishReason reason, int promptTokens, int completionTokens) {}

    /** A reply failed because the engine died. */
    default void failed(Throwable cause) {}
}
