package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.RawClient;
import io.resident.attack.ServiceDefaults;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Idle, stalled and silent connections stayed open 30 minutes. Here the defaults but for a 3-second
 * RESIDENT_IDLE_TIMEOUT, so that waiting it out keeps the test short.
 */
@QuarkusTest
@TestProfile(ConnectionHygieneTest.ShortIdleTimeout.class)
class ConnectionHygieneTest extends RunningChatApp {

    public static class ShortIdleTimeout extends ServiceDefaults {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
            overrides.put("resident.idle-timeout", IDLE.toSeconds() + "s");
            overrides.put("resident.max-wait", "2s"); // under the idle timeout, as the service requires
            return overrides;
        }
    }

    static final Duration IDLE = Duration.ofSeconds(3);
    /** The timeout, a sweep of the silent WebSockets and a margin for a loaded machine. */
    private static final Duration CLOSED_WITHIN = IDLE.multipliedBy(5);

    @Test
    void idleAndStalledConnectionsAreClosed() throws Exception {
        try (RawClient idle = raw(null);
             RawClient stalled = raw(null);
             RawClient keptAlive = raw(null)) {
            stalled.write("GET /q/health/live HTTP/1.1\r\nHost: loc");
            keptAlive.write("GET /q/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(keptAlive.readHead().startsWith("HTTP/1.1 200"));
            for (RawClient client : List.of(idle, stalled, keptAlive)) {
                assertTrue(client.closedByServer(CLOSED_WITHIN), "still open after " + CLOSED_WITHIN);
            }
        }
    }

    @Test
    void aSilentWebSocketIsClosedAndALiveOneIsKeptByItsPongs() throws Exception {
        StringBuilder head = new StringBuilder();
        try (ChatClient live = ChatClient.open(vertx, endpoint, null);
             RawClient silent = RawClient.upgrade(endpoint.getHost(), endpoint.getPort(), endpoint.getPath(), Map.of(), head)) {
            assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
            assertTrue(silent.closedByServer(CLOSED_WITHIN), "a WebSocket that answers no ping is still open");
            assertFalse(live.isClosed(), "a client that answers pings was closed");
            assertEquals("done", live.chat("Still there?", options("max_tokens", 2)).type());
        }
    }

    private RawClient raw(String from) throws IOException {
        return RawClient.connect("127.0.0.1", endpoint.getPort(), from);
    }

}
