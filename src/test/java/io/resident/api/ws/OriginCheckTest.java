package io.resident.api.ws;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.ResidentConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.core.net.HostAndPort;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which browser origins may open the chat WebSocket: the service's own and RESIDENT_ALLOWED_ORIGINS. */
class OriginCheckTest {

    private static OriginCheck check(String allowed) {
        return new OriginCheck(new SmallRyeConfigBuilder().addDiscoveredConverters().withMapping(ResidentConfig.class)
                .withDefaultValues(allowed == null ? Map.of() : Map.of("resident.allowed-origins", allowed)).build()
                .getConfigMapping(ResidentConfig.class), null);
    }

    @Test
    void theServicesOwnOriginWhateverTheProxyLeavesOfTheHostHeader() {
        OriginCheck check = check(null);
        assertTrue(check.permits(null, HostAndPort.create("chat.example", 8080)), "no Origin: not a browser");
        assertTrue(check.permits("http://chat.example:8080", HostAndPort.create("chat.example", 8080)));
        assertTrue(check.permits("https://Chat.Example", HostAndPort.create("chat.example", -1)), "behind TLS");
        assertTrue(check.permits("https://chat.example", HostAndPort.create("chat.example", 443)));
        assertFalse(check.permits("http://chat.example:8081", HostAndPort.create("chat.example", 8080)));
        assertFalse(check.permits("https://evil.example", HostAndPort.create("chat.example", -1)));
        assertFalse(check.permits("null", HostAndPort.create("chat.example", -1)));
        assertFalse(check.permits("chat.example", HostAndPort.create("chat.example", -1)), "not an origin");
    }

    @Test
    void allowedOriginsAreComparedAsOrigins() {
        OriginCheck check = check("https://app.example, http://localhost:3000/");
        HostAndPort host = HostAndPort.create("api.example", -1);
        assertTrue(check.permits("https://APP.example:443", host));
        assertTrue(check.permits("http://localhost:3000", host));
        assertFalse(check.permits("http://app.example", host), "another scheme");
        assertFalse(check.permits("http://localhost:3001", host));
    }
}
