package io.resident.engine;

/** Thrown to callers while the model is still loading (or failed to load): the API answers 503. */
public class ModelNotReadyException extends RuntimeException {
    public ModelNotReadyException(String message) {
        super(message);
    }
}
