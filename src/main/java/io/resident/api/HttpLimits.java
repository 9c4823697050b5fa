package io.resident.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.ResidentConfig;
import io.resident.ops.ResidentMetrics;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * HTTP-level answers of the REST API, in the same OpenAI-shaped errors as the rest: 413 for a body over
 * RESIDENT_MAX_REQUEST_BODY, on its Content-Length before anything is read (OpenAI clients all send one), or once a
 * chunked body passes Quarkus's own limit (the same number), after which the connection closes so that the rest of
 * the body is never read; and 404 for a path under /v1 that no endpoint serves, once the API key (when set) is
 * checked. An upload the client abandons is left unanswered, so it counts as a reset, not as a server error.
 * Connections are limited before the router sees them, in {@link ConnectionGuard}.
 */
@ApplicationScoped
class HttpLimits {

    /** Before anything else, so that every failed body read is answered here. */
    private static final int FAILURE_ORDER = -4;
    /** Before Quarkus's own upload limit (order -2), which answers with an empty body. */
    private static final int BODY_LIMIT_ORDER = -3;
    /** After Quarkus's upload limit, before the REST endpoints, which take the body read here. */
    private static final int BODY_READ_ORDER = -1;
    /** After every other route, the REST endpoints included. */
    private static final int NOT_FOUND_ORDER = 100_000;

    void install(@Observes Router router, ResidentConfig config, ResidentMetrics metrics, ObjectMapper json, ApiKey apiKey) {
        long limit = config.maxRequestBody().asLongValue();
        router.route().order(FAILURE_ORDER).failureHandler(ctx -> {
            if (ctx.response().closed() || ctx.failure() instanceof HttpClosedException) {
                return; // the client left mid-upload: Vert.x counted the reset, and an answer would count once more
            }
            if (ctx.statusCode() == 413) {
                tooLarge(ctx, json, metrics, "The request body has more than " + limit + " bytes; this service reads at most " + limit);
            } else {
                ctx.next();
            }
        });
        router.route().order(BODY_LIMIT_ORDER).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (parse(length) > limit) {
                tooLarge(ctx, json, metrics, "The request body has " + length + " bytes; this service reads at most " + limit);
            } else {
                ctx.next();
            }
        });
        // an HTTP/1 body is read here, so that a failed read reaches the failure handler above, not a 500; an empty
        // one is left to the endpoints, and so is HTTP/2's (the endpoints pause a request, which HTTP/2 refuses once read)
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(limit);
        router.route().method(HttpMethod.POST).order(BODY_READ_ORDER).handler(ctx -> {
            if (ctx.request().version() == HttpVersion.HTTP_2 || parse(ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH)) == 0) {
                ctx.next();
            } else {
                bodies.handle(ctx);
            }
        });
        router.route("/v1/*").order(NOT_FOUND_ORDER).handler(ctx -> {
            if (!apiKey.acceptsAuthorization(ctx.request().getHeader(HttpHeaders.AUTHORIZATION))) {
                metrics.error("unauthorized");
                ctx.response().putHeader("WWW-Authenticate", "Bearer");
                respond(ctx, json, 401, ApiKeyFilter.refusal(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)));
                return;
            }
            metrics.error("invalid_request");
            respond(ctx, json, 404, ApiError.of("No endpoint " + ctx.request().method() + " " + ctx.request().path()
                    + "; see GET /v1/models and the README for the endpoints", "invalid_request_error", null, "not_found"));
        });
    }

    /** 413, then the connection closes: reading on would take in the whole body the answer refuses. */
    private static void tooLarge(RoutingContext ctx, ObjectMapper json, ResidentMetrics metrics, String message) {
        metrics.error("invalid_request");
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        respond(ctx, json, 413, ApiError.of(message + " (RESIDENT_MAX_REQUEST_BODY)", "invalid_request_error", null,
                "request_too_large")).onComplete(sent -> ctx.request().connection().close());
    }

    /** A Content-Length's value; -1 when there is none (a chunked body) or it is malformed. */
    private static long parse(String length) {
        if (length == null) {
            return -1;
        }
        try {
            return Long.parseLong(length.strip());
        } catch (NumberFormatException e) {
            return -1; // Vert.x turns a malformed Content-Length away itself
        }
    }

    private static Future<Void> respond(RoutingContext ctx, ObjectMapper json, int status, ApiError error) {
        return ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(Buffer.buffer(error.toJson(json)));
    }
}
