package io.resident.api;

import java.time.Duration;

/**
 * A request the REST API answers with an error: the HTTP status, the OpenAI-shaped body, and the metrics cause it
 * counts under (null: counted where it arose, or not an error of the service's own).
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final String metricsCause;
    private final Duration retryAfter;

    private ApiException(int status, String message, String type, String param, String code, String metricsCause,
            Duration retryAfter) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.metricsCause = metricsCause;
        this.retryAfter = retryAfter;
    }

    /** 400: a parameter that is missing, of the wrong type, or out of range. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, message, "invalid_request_error", param, null, "invalid_request", null);
    }

    /** 400: the prompt, or the prompt plus the asked-for tokens, does not fit the context. */
    public static ApiException contextOverflow(String param, String message) {
        return new ApiException(400, message, "invalid_request_error", param, "context_length_exceeded",
                "context_overflow", null);
    }

    /** 401: RESIDENT_API_KEY is set and the request did not present it. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, message, "authentication_error", null, "invalid_api_key", "unauthorized", null);
    }

    /** 404: a model this service does not serve. */
    public static ApiException modelNotFound(String model, String served) {
        return new ApiException(404, "The model '" + model + "' does not exist: this service serves '" + served
                + "' (or ask for 'default')", "invalid_request_error", "model", "model_not_found", "invalid_request",
                null);
    }

    /** Any other client error with a status of its own (404 route, 405, 413). */
    public static ApiException client(int status, String message, String code) {
        return new ApiException(status, message, "invalid_request_error", null, code, "invalid_request", null);
    }

    /** 499 (as nginx logs it): the client closed the connection before the answer; nobody reads this. */
    public static ApiException clientGone() {
        return new ApiException(499, "The client closed the connection", "invalid_request_error", null, "client_closed",
                null, null);
    }

    /** 503: try again after {@code retryAfter} (queue full, model loading, engine draining). */
    public static ApiException unavailable(String message, String code, Duration retryAfter) {
        return new ApiException(503, message, "server_error", null, code, null, retryAfter);
    }

    /** 500: the service failed; {@code metricsCause} is null when the failure was counted where it arose. */
    public static ApiException internal(String message, String metricsCause) {
        return new ApiException(500, message, "server_error", null, "internal_error", metricsCause, null);
    }

    public int status() {
        return status;
    }

    public String metricsCause() {
        return metricsCause;
    }

    /** When set, the answer carries a Retry-After header. */
    public Duration retryAfter() {
        return retryAfter;
    }

    public ApiError body() {
        return ApiError.of(getMessage(), type, param, code);
    }
}
