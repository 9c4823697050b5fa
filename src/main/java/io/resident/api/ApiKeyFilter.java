package io.resident.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * With RESIDENT_API_KEY set, every REST call must carry "Authorization: Bearer &lt;key&gt;" (as OpenAI clients send
 * it); the answer otherwise is 401. It runs after matching, so routes outside the REST API (the page, the probes,
 * the metrics) are not affected.
 */
public class ApiKeyFilter {

    private final ApiKey apiKey;

    ApiKeyFilter(ApiKey apiKey) {
        this.apiKey = apiKey;
    }

    @ServerRequestFilter
    public void requireKey(ContainerRequestContext request) {
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (!apiKey.acceptsAuthorization(header)) {
            throw ApiException.unauthorized(refusal(header).error().message());
        }
    }

    /**
     * A 404 or 405 (no resource matched, so the filter above never ran) is a 401 too for a client without the key:
     * which paths and methods exist is none of its business.
     */
    @ServerResponseFilter
    public void hideUnmatched(ContainerRequestContext request, ContainerResponseContext response) {
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if ((response.getStatus() == 404 || response.getStatus() == 405) && !apiKey.acceptsAuthorization(header)) {
            response.setStatus(401);
            response.setEntity(refusal(header), null, MediaType.APPLICATION_JSON_TYPE);
            response.getHeaders().putSingle(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
    }

    /** The 401's body, as OpenAI words it. */
    static ApiError refusal(String header) {
        return ApiError.of(header == null
                ? "Missing API key: send the header 'Authorization: Bearer <RESIDENT_API_KEY>'"
                : "Incorrect API key: the bearer token does not match RESIDENT_API_KEY",
                "authentication_error", null, "invalid_api_key");
    }
}
