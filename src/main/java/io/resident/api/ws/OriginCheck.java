package io.resident.api.ws;

import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.resident.ResidentConfig;
import io.resident.ops.ResidentMetrics;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A browser sends its page's Origin with every WebSocket handshake, and any page a user visits may open one: the
 * chat WebSocket upgrades only for the service's own origin (the host the request names) and those in
 * RESIDENT_ALLOWED_ORIGINS, else 403. Clients that are not browsers send no Origin and are let in (the API key guards
 * them when set).
 */
@ApplicationScoped
public class OriginCheck implements HttpUpgradeCheck {

    private final Set<String> allowed;
    private final ResidentMetrics metrics;

    OriginCheck(ResidentConfig config, ResidentMetrics metrics) {
        this.allowed = config.allowedOrigins().orElse(List.of()).stream().map(String::strip)
                .filter(origin -> !origin.isEmpty()).map(OriginCheck::normalize).collect(Collectors.toUnmodifiableSet());
        this.metrics = metrics;
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        HttpServerRequest request = context.httpRequest();
        if (permits(request.getHeader("Origin"), request.authority())) {
            return CheckResult.permitUpgrade();
        }
        metrics.error("forbidden_origin");
        return CheckResult.rejectUpgrade(403);
    }

    /** No Origin (not a browser), the service's own, or one of RESIDENT_ALLOWED_ORIGINS. */
    boolean permits(String origin, HostAndPort host) {
        return origin == null || sameOrigin(origin, host) || allowed.contains(normalize(origin));
    }

    /** Same host and port as the request names; a Host without a port means the origin scheme's default. */
    private static boolean sameOrigin(String origin, HostAndPort host) {
        URI uri = parse(origin);
        if (uri == null || host == null || uri.getHost() == null) {
            return false;
        }
        int originPort = uri.getPort() >= 0 ? uri.getPort() : defaultPort(uri.getScheme());
        int hostPort = host.port() >= 0 ? host.port() : defaultPort(uri.getScheme());
        return uri.getHost().equalsIgnoreCase(host.host()) && originPort == hostPort;
    }

    /** scheme://host[:port], lower case, without a default port or a trailing slash. */
    private static String normalize(String origin) {
        URI uri = parse(origin);
        if (uri == null || uri.getHost() == null) {
            return origin.toLowerCase(Locale.ROOT);
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        boolean defaultPort = uri.getPort() < 0 || uri.getPort() == defaultPort(scheme);
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + uri.getPort());
    }

    private static URI parse(String origin) {
        try {
            URI uri = new URI(origin.strip());
            return uri.getScheme() == null ? null : uri;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static int defaultPort(String scheme) {
        return "https".equalsIgnoreCase(scheme) || "wss".equalsIgnoreCase(scheme) ? 443 : 80;
    }
}
