package io.resident.tokenizer.jinja;

/** A template that cannot be parsed or rendered, or whose raise_exception() was called (the message is the template's). */
public class TemplateException extends RuntimeException {

    public TemplateException(String message) {
        super(message);
    }
}
