package io.resident.chat;

/** The session store (Redis) cannot be reached: nothing was read or written; the client may try again later. */
public final class SessionStoreUnavailableException extends RuntimeException {
    public SessionStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
