package io.resident.engine;

/** Why a reply ended, in OpenAI's terms. */
public enum FinishReason {
    /** A stop id or stop string ended it. */
    STOP,
    /** max_tokens or the context end cut it off. */
    LENGTH,
    /** The client cancelled or disconnected, or the engine was drained. */
    CANCELLED
}
