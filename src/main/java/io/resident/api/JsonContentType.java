package io.resident.api;

import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Locale;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * A POST to the REST API must declare its body JSON (application/json or a +json type), else 415, as OpenAI's API
 * answers: a web page may send text/plain or a form to any site without the browser asking first, but not JSON.
 * Runs after the API key's check, so a client without the key learns nothing more.
 */
public class JsonContentType {

    @ServerRequestFilter(priority = Priorities.USER + 100)
    public void requireJson(ContainerRequestContext request) {
        if (!"POST".equals(request.getMethod())) {
            return;
        }
        String declared = request.getHeaderString(HttpHeaders.CONTENT_TYPE);
        if (!json(declared)) {
            throw ApiException.client(415, "The request body must be JSON, sent with \"Content-Type: application/json\";"
                    + " it was declared " + (declared == null ? "as nothing" : "as " + declared), "unsupported_media_type");
        }
    }

    private static boolean json(String contentType) {
        if (contentType == null) {
            return false;
        }
        String type = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
    }
}
