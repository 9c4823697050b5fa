package io.resident.api.ws;

/** A client frame the protocol does not allow; answered with an invalid_request error frame, changing nothing. */
final class InvalidFrameException extends RuntimeException {
    InvalidFrameException(String message) {
        super(message);
    }
}
