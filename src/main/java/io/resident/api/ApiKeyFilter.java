package io.resident.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

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
            throw ApiException.unauthorized(header == null
                    ? "Missing API key: send the header 'Authorization: Bearer <RESIDENT_API_KEY>'"
                    : "Incorrect API key: the bearer token does not match RESIDENT_API_KEY");
        }
    }
}
