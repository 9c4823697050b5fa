package io.resident.api;

import io.resident.engine.EngineBusyException;
import io.resident.engine.ModelNotReadyException;
import io.resident.ops.ResidentMetrics;
import io.vertx.core.http.HttpClosedException;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.Response.Status;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Every error of the REST API in OpenAI's shape, with its status: the service's own exceptions and a bug's are mapped
 * here, and errors the framework answers itself (405, 406, 415) get the same body on their way out.
 *
 * <p>Only these types are mapped: a mapper for a supertype of NotFoundException would also catch every request no
 * resource matches, and keep it from reaching the chat page and the other non-REST routes.
 */
public class RestErrors {

    private static final Logger LOG = Logger.getLogger(RestErrors.class);

    /** While the model loads, clients are told to come back after this. */
    static final Duration LOADING_RETRY = Duration.ofSeconds(5);

    @Inject
    ResidentMetrics metrics;

    @ServerExceptionMapper
    public Response api(ApiException e) {
        if (e.metricsCause() != null) {
            metrics.error(e.metricsCause());
        }
        Response.ResponseBuilder response = Response.status(e.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(e.body());
        if (e.retryAfter() != null) {
            response.header("Retry-After", Math.max(1, (e.retryAfter().toMillis() + 999) / 1000));
        }
        if (e.status() == 401) {
            response.header("WWW-Authenticate", "Bearer");
        }
        return response.build();
    }

    /** The engine counted it as busy already. */
    @ServerExceptionMapper
    public Response busy(EngineBusyException e) {
        return api(ApiException.unavailable("The server is busy: " + e.getMessage() + "; retry after the Retry-After delay",
                "server_overloaded", e.retryAfter()));
    }

    @ServerExceptionMapper
    public Response loading(ModelNotReadyException e) {
        return api(ApiException.unavailable("The model is not ready: " + e.getMessage(), "model_not_ready", LOADING_RETRY));
    }

    /**
     * A bug's exception, none of the service's own: a 500 in OpenAI's shape, its details in the log only. The types are
     * listed one by one because a mapper for RuntimeException would also take NotFoundException (see above).
     */
    @ServerExceptionMapper({IllegalArgumentException.class, IllegalStateException.class, NullPointerException.class,
            IndexOutOfBoundsException.class, ClassCastException.class, ArithmeticException.class,
            UnsupportedOperationException.class, NoSuchElementException.class, UncheckedIOException.class, Error.class})
    public Response unexpected(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpClosedException closed) {
                return clientGone(closed); // reading the body of a client that left fails with its own exception wrapped
            }
        }
        LOG.error("unexpected error answering a request", e);
        return api(ApiException.internal("The server had an error while answering the request; its log has the details",
                "internal"));
    }

    /** A client that left mid-upload: nothing to answer and no fault of the service (499, as nginx logs it). */
    @ServerExceptionMapper
    public Response clientGone(HttpClosedException e) {
        return Response.status(499).build();
    }

    /** An error response without a body (one the framework made) gets the OpenAI-shaped body its status calls for. */
    @ServerResponseFilter
    public void shapeBodilessErrors(ContainerRequestContext request, ContainerResponseContext response) {
        int status = response.getStatus();
        if (status < 400 || response.hasEntity()) {
            return;
        }
        String reason = Status.fromStatusCode(status) == null ? "error" : Status.fromStatusCode(status).getReasonPhrase();
        String message = status == 405
                ? request.getMethod() + " is not allowed on " + request.getUriInfo().getPath()
                : reason + ": " + request.getMethod() + " " + request.getUriInfo().getPath();
        boolean server = status >= 500;
        if (server) {
            metrics.error("internal");
        }
        response.setEntity(ApiError.of(message, server ? "server_error" : "invalid_request_error", null,
                reason.toLowerCase(Locale.ROOT).replace(' ', '_')));
        response.getHeaders().putSingle("Content-Type", MediaType.APPLICATION_JSON);
    }
}
