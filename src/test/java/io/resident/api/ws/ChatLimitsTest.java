package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The API key on a WebSocket, the connection and session limits, and idle expiry, with small limits and a short timeout. */
@QuarkusTest
@TestProfile(ChatLimitsTest.Strict.class)
class ChatLimitsTest extends RunningChatApp {

    /** A key, 3 connections per client address, 6 sessions, one second of idleness, a proxy that names clients. */
    public static class Strict implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "resident.api-key", KEY,
                    "resident.max-connections-per-client", "3",
                    "resident.max-sessions", "6",
                    "resident.session-idle-timeout", "1s",
                    "resident.session-sweep-interval", "1s",
                    "quarkus.http.proxy.proxy-address-forwarding", "true");
        }
    }

    static final String KEY = "test-key-4f1c";
    private static final Duration TIMEOUT = Duration.ofSeconds(1);


    /** A client with the key, from the given address as the proxy reports it. */
    private ChatClient open(String address, String query) {
        return ChatClient.open(vertx, endpoint, query,
                Map.of("Authorization", "Bearer " + KEY, "X-Forwarded-For", address + ", 10.99.0.1"));
    }

    private static void assertRefused(ChatClient chat, String code, String message, int closeCode) {
        JsonNode error = chat.next("error");
        assertEquals(code, error.get("code").asText(), error.toString());
        assertTrue(error.get("message").asText().contains(message), error.toString());
        assertEquals(closeCode, chat.awaitClose());
    }

    @Test
    void withoutTheKeyTheConnectionIsRefused() {
        int held = sessions.size();
        try (ChatClient none = ChatClient.connect(vertx, endpoint)) {
            assertRefused(none, "unauthorized", "a valid API key is required", 1008);
        }
        try (ChatClient wrong = ChatClient.connect(vertx, endpoint, null, Map.of("Authorization", "Bearer nope"))) {
            assertRefused(wrong, "unauthorized", "a valid API key is required", 1008);
        }
        try (ChatClient wrong = ChatClient.connect(vertx, endpoint, "api_key=nope", Map.of())) {
            assertRefused(wrong, "unauthorized", "a valid API key is required", 1008);
        }
        assertTrue(sessions.size() <= held, "a refused connection gets no session");

        try (ChatClient header = ChatClient.connect(vertx, endpoint, null, Map.of("Authorization", "Bearer " + KEY));
             ChatClient query = ChatClient.connect(vertx, endpoint, "api_key=" + KEY, Map.of())) {
            assertEquals("session", header.next().get("type").asText());
            // a browser cannot set headers on a WebSocket: the key comes as a query parameter
            JsonNode session = query.next("session");
            ChatClient.Reply reply = query.chat("Hi", options("max_tokens", 1));
            assertEquals("done", reply.type(), reply.end().toString());
            try (ChatClient resumed = ChatClient.connect(vertx, endpoint,
                    "session=" + session.get("sessionId").asText() + "&api_key=" + KEY, Map.of())) {
                assertTrue(resumed.next("session").get("resumed").asBoolean());
            }
        }
    }

    @Test
    void eachClientAddressHasItsConnectionLimit() {
        List<ChatClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                open.add(open("203.0.113.7", null));
            }
            try (ChatClient fourth = ChatClient.connect(vertx, endpoint, null,
                    Map.of("Authorization", "Bearer " + KEY, "X-Forwarded-For", "203.0.113.7"))) {
                assertRefused(fourth, "busy", "this address already has 3 open chat connections", 1008);
            }
            open.add(open("198.51.100.20", null)); // another address is not affected
            open.removeFirst().close();
            awaitOpenConnectionsFrom("203.0.113.7", 2, open);
        } finally {
            open.forEach(ChatClient::close);
        }
    }

    /** After a close the server lets the address open one more (its close is handled asynchronously). */
    private void awaitOpenConnectionsFrom(String address, int stillOpen, List<ChatClient> open) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            ChatClient chat = ChatClient.connect(vertx, endpoint, null,
                    Map.of("Authorization", "Bearer " + KEY, "X-Forwarded-For", address));
            JsonNode first = chat.next();
            if (first.get("type").asText().equals("session")) {
                open.add(chat);
                return;
            }
            chat.close();
            assertTrue(System.nanoTime() < deadline, "the closed connection still counts: " + first);
        }
    }

    @Test
    void whenEverySessionHasAConnectionANewOneWaits() throws InterruptedException {
        awaitNoSessions();
        List<ChatClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                open.add(open("192.0.2." + i, null));
            }
            try (ChatClient seventh = ChatClient.connect(vertx, endpoint, null,
                    Map.of("Authorization", "Bearer " + KEY, "X-Forwarded-For", "192.0.2.100"))) {
                assertRefused(seventh, "busy", "all 6 chat sessions are in use by open connections", 1013);
            }
            assertEquals(6, sessions.size());
            open.removeFirst().close();
            // the session left without a connection makes room (displaced, or expired by then)
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                ChatClient seventh = ChatClient.connect(vertx, endpoint, null,
                        Map.of("Authorization", "Bearer " + KEY, "X-Forwarded-For", "192.0.2.100"));
                if (seventh.next().get("type").asText().equals("session")) {
                    open.add(seventh);
                    break;
                }
                seventh.close();
                assertTrue(System.nanoTime() < deadline, "no room was made");
            }
            assertEquals(6, sessions.size());
        } finally {
            open.forEach(ChatClient::close);
        }
    }

    @Test
    void anIdleSessionWithoutAConnectionExpiresWithItsMemory() throws InterruptedException {
        String id;
        long closed;
        try (ChatClient chat = open("198.51.100.1", null)) {
            id = chat.sessionId();
            chat.chat("Remember this", options("max_tokens", 1));
            // read before the close, since the server starts the idle clock when it sees the close, which can come first
            closed = System.nanoTime();
        }
        while (sessions.find(id).isPresent()) {
            assertTrue(System.nanoTime() - closed < Duration.ofSeconds(30).toNanos(), "the session did not expire");
            Thread.sleep(20);
        }
        long expiredAfter = System.nanoTime() - closed;
        assertTrue(expiredAfter >= TIMEOUT.toNanos(), "expired after " + Duration.ofNanos(expiredAfter) + ", before the timeout");
        try (ChatClient again = open("198.51.100.1", "session=" + id)) {
            JsonNode session = again.session();
            assertFalse(session.get("resumed").asBoolean());
            assertEquals(0, session.get("memoryMessages").asInt());
        }
        assertMetricMatchesTheStore();
    }

    @Test
    void aSessionWithAnOpenConnectionNeverExpires() throws InterruptedException {
        try (ChatClient chat = open("198.51.100.2", null)) {
            chat.chat("Still here", options("max_tokens", 1));
            Thread.sleep(TIMEOUT.multipliedBy(3).toMillis()); // idle, but connected
            assertTrue(sessions.find(chat.sessionId()).isPresent());
            assertEquals(4, chat.chat("Yes", options("max_tokens", 1)).end().get("memoryMessages").asInt());
        }
    }

    private void awaitNoSessions() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (sessions.size() > 0) {
            assertTrue(System.nanoTime() < deadline, sessions.size() + " sessions did not expire");
            Thread.sleep(20);
        }
    }

    private void assertMetricMatchesTheStore() {
        String metrics = RestAssured.get("/q/metrics").asString();
        String line = metrics.lines().filter(l -> l.startsWith("resident_sessions_active")).findFirst().orElseThrow();
        assertEquals(sessions.size(), (int) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), line);
    }
}
