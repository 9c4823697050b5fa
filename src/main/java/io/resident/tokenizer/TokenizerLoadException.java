package io.resident.tokenizer;

/** A model directory's tokenizer files are missing or cannot be read; the message names the file and the fault. */
public class TokenizerLoadException extends RuntimeException {

    public TokenizerLoadException(String message) {
        super(message);
    }

    public TokenizerLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
