package io.resident.model;

/** A checkpoint that cannot be loaded; the message names the file or tensor and what is wrong, in one line. */
public class ModelLoadException extends RuntimeException {

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
