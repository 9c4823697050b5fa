package io.resident.engine;

import java.time.Duration;

/** Every slot is taken and the wait for one ran out (or the queue is full, or the engine is draining): try later. */
public final class EngineBusyException extends RuntimeException {

    private final Duration retryAfter;

    public EngineBusyException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    /** A hint for a Retry-After header. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
