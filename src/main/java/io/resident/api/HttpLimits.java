package io.resident.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.ResidentConfig;
import io.resident.ops.ResidentMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.UncheckedIOException;

/**
 * HTTP-level answers of the REST API, in the same OpenAI-shaped errors as the rest: 413 for a body over
 * RESIDENT_MAX_REQUEST_BODY, on its Content-Length before anything is read (OpenAI clients all send one; a chunked
 * body over the limit is cut off by Quarkus's own limit, the same number, with a bare 413), and 404 for a path
 * under /v1 that no endpoint serves.
 */
@ApplicationScoped
class HttpLimits {

    /** Before Quarkus's own upload limit (order -2), which answers with an empty body. */
    private static final int BODY_LIMIT_ORDER = -3;
    /** After every other route, the REST endpoints included. */
    private static final int NOT_FOUND_ORDER = 100_000;

    void install(@Observes Router router, ResidentConfig config, ResidentMetrics metrics, ObjectMapper json) {
        long limit = config.maxRequestBody().asLongValue();
        router.route().order(BODY_LIMIT_ORDER).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && parse(length) > limit) {
                metrics.error("invalid_request");
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                respond(ctx, json, 413, ApiError.of("The request body has " + length + " bytes; this service reads at most "
                        + limit + " (RESIDENT_MAX_REQUEST_BODY)", "invalid_request_error", null, "request_too_large"));
            } else {
                ctx.next();
            }
        });
        router.route("/v1/*").order(NOT_FOUND_ORDER).handler(ctx -> {
            metrics.error("invalid_request");
            respond(ctx, json, 404, ApiError.of("No endpoint " + ctx.request().method() + " " + ctx.request().path()
                    + "; see GET /v1/models and the README for the endpoints", "invalid_request_error", null, "not_found"));
        });
    }

    private static long parse(String length) {
        try {
            return Long.parseLong(length.strip());
        } catch (NumberFormatException e) {
            return -1; // Vert.x turns a malformed Content-Length away itself
        }
    }

    private static void respond(RoutingContext ctx, ObjectMapper json, int status, ApiError error) {
        try {
            ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(json.writeValueAsString(error));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
