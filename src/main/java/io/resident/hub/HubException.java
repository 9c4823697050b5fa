package io.resident.hub;

/** A model cannot be resolved; the message says why and what the user can do about it. */
public class HubException extends RuntimeException {

    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
