package io.resident.api;

import io.resident.ResidentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/** RESIDENT_API_KEY: when set, every API call and WebSocket must present it; unset, the service is open. */
@ApplicationScoped
public class ApiKey {

    private static final String BEARER = "Bearer ";

    private final Optional<byte[]> key;

    ApiKey(ResidentConfig config) {
        this.key = config.apiKey().map(String::strip).filter(k -> !k.isEmpty()).map(k -> k.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether a key is configured at all. */
    public boolean required() {
        return key.isPresent();
    }

    /** Accepts an Authorization header value "Bearer &lt;key&gt;"; anything passes when no key is set. */
    public boolean acceptsAuthorization(String header) {
        if (key.isEmpty()) {
            return true;
        }
        return header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())
                && acceptsToken(header.substring(BEARER.length()).strip());
    }

    /** Accepts the bare key (a query parameter where a browser cannot set headers); anything passes when no key is set. */
    public boolean acceptsToken(String token) {
        // constant-time comparison, so the key cannot be guessed byte by byte from response times
        return key.isEmpty() || (token != null && MessageDigest.isEqual(key.get(), token.getBytes(StandardCharsets.UTF_8)));
    }
}
