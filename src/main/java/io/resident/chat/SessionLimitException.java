package io.resident.chat;

/** A session limit (all sessions, a client's share, or its new sessions a minute) keeps a new session from starting now. */
public final class SessionLimitException extends RuntimeException {
    public SessionLimitException(String message) {
        super(message);
    }
}
