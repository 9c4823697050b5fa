package io.resident.chat;

/** RESIDENT_MAX_SESSIONS are held and each has an open connection, so no new session can start now. */
public final class SessionLimitException extends RuntimeException {
    public SessionLimitException(String message) {
        super(message);
    }
}
