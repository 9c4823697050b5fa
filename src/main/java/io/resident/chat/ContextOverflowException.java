package io.resident.chat;

/** A new message, with the system prompt and the reply's token budget, does not fit in the model's context. */
public final class ContextOverflowException extends RuntimeException {
    public ContextOverflowException(String message) {
        super(message);
    }
}
