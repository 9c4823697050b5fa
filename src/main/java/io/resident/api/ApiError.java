package io.resident.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;

/**
 * The REST API's error body, in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
 *
 * @param error what went wrong
 */
public record ApiError(Detail error) {

    /**
     * @param message what went wrong and what to do about it, for a person
     * @param type    OpenAI's error class: invalid_request_error, authentication_error, server_error
     * @param param   the request field at fault ("messages[1].content"), or null
     * @param code    a stable machine-readable code ("model_not_found", "context_length_exceeded"), or null
     */
    public record Detail(String message, String type, String param, String code) {}

    public static ApiError of(String message, String type, String param, String code) {
        return new ApiError(new Detail(message, type, param, code));
    }

    /** The body as sent where no JAX-RS writer serializes it (Vert.x routes, Netty handlers). */
    public byte[] toJson(ObjectMapper json) {
        try {
            return json.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // a record of strings always serializes
        }
    }
}
