package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.attack.ServiceDefaults;
import org.junit.jupiter.api.Test;

/**
 * The session cap was global, so 1,000 connect/close cycles from one address evicted every other user's idle session.
 * With the default settings a churning client is stopped after its new sessions of a minute, and another client's
 * idle session is still there to resume.
 */
@QuarkusTest
@TestProfile(ServiceDefaults.class)
class SessionChurnTest extends RunningChatApp {

    private static final String USER = "127.0.0.2";
    private static final String CHURNER = "127.0.0.3";
    /** The global cap (RESIDENT_MAX_SESSIONS): as many cycles as evicted everyone before. */
    private static final int CYCLES = 1_000;

    @Test
    void oneClientsChurnNeverEvictsAnotherClientsSession() {
        String kept;
        try (ChatClient user = ChatClient.connectFrom(vertx, endpoint, USER, null)) {
            kept = user.next("session").get("sessionId").asText();
            assertEquals("done", user.chat("Remember me", options("max_tokens", 2)).type());
        }

        int cycles = 0;
        JsonNode refusal = null;
        while (refusal == null && cycles < CYCLES) {
            try (ChatClient churner = ChatClient.connectFrom(vertx, endpoint, CHURNER, null)) {
                JsonNode first = churner.next();
                if (first.path("type").asText().equals("error")) {
                    refusal = first;
                    assertEquals(1013, churner.awaitClose(), "try again later");
                }
            }
            cycles++;
        }
        assertTrue(refusal != null, "no refusal within " + CYCLES + " new sessions from one address");
        assertEquals("busy", refusal.get("code").asText(), refusal.toString());
        assertTrue(refusal.get("message").asText().contains("chat sessions within a minute"), refusal.toString());

        try (ChatClient user = ChatClient.connectFrom(vertx, endpoint, USER, "session=" + kept)) {
            JsonNode session = user.next("session");
            assertTrue(session.get("resumed").asBoolean(), "the other client's session was evicted: " + session);
            assertEquals("Remember me", session.at("/messages/0/content").asText(), session.toString());
        }
    }
}
