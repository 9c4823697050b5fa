package io.resident.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.resident.ResidentConfig;
import io.resident.tokenizer.Message;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The session store's rules: resume, the window, the system prompt apart, displacement at the limit, idle expiry. */
class ChatSessionsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private ChatSessions sessions(Map<String, String> settings) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDiscoveredConverters().withMapping(ResidentConfig.class)
                .withDefaultValues(settings).build();
        return new ChatSessions(config.getConfigMapping(ResidentConfig.class), registry, new InMemorySessionStore());
    }

    @Test
    void theWindowKeepsTheLastTwentyMessagesAndTheSystemPromptApart() {
        ChatSession session = sessions(Map.of()).open(null, "c1").session();
        session.systemPrompt("Be brief.");
        List<Message> expected = new ArrayList<>();
        for (int turn = 1; turn <= 11; turn++) {
            int size = session.addTurn("question " + turn, "answer " + turn);
            assertEquals(Math.min(20, 2 * turn), size);
            if (turn > 1) {
                expected.add(new Message("user", "question " + turn));
                expected.add(new Message("assistant", "answer " + turn));
            }
        }
        assertEquals(new ChatSession.Conversation("Be brief.", expected), session.conversation());
        session.clear();
        assertEquals(new ChatSession.Conversation("Be brief.", List.of()), session.conversation());
        session.systemPrompt(" ");
        assertNull(session.systemPrompt());
    }

    @Test
    void resumeGivesTheSameSessionAndNamesTheConnectionThatHadIt() {
        ChatSessions sessions = sessions(Map.of());
        ChatSessions.Opened first = sessions.open(null, "c1");
        assertFalse(first.resumed());
        first.session().addTurn("hi", "hello");

        ChatSessions.Opened again = sessions.open(first.session().id(), "c2");
        assertTrue(again.resumed());
        assertEquals("c1", again.previousOwner(), "c1 had not closed yet");
        assertEquals(2, again.session().size());
        assertTrue(again.session().ownedBy("c2"));
        sessions.release(again.session(), "c1"); // the old connection's close comes late and changes nothing
        assertTrue(again.session().ownedBy("c2"));

        ChatSessions.Opened unknown = sessions.open("no-such-session", "c3");
        assertFalse(unknown.resumed());
        assertNotEquals("no-such-session", unknown.session().id(), "clients never choose session ids");
        assertEquals(2, sessions.size());
        assertEquals(2.0, registry.get("resident.sessions.active").gauge().value());
    }

    @Test
    void atTheLimitTheLongestIdleSessionWithoutAConnectionMakesRoom() throws InterruptedException {
        ChatSessions sessions = sessions(Map.of("resident.max-sessions", "3"));
        ChatSession a = sessions.open(null, "a").session();
        ChatSession b = sessions.open(null, "b").session();
        ChatSession c = sessions.open(null, "c").session();
        SessionLimitException full = assertThrows(SessionLimitException.class, () -> sessions.open(null, "d"));
        assertEquals("all 3 chat sessions are in use by open connections; try again later", full.getMessage());

        sessions.release(b, "b");
        Thread.sleep(2);
        sessions.release(a, "a");
        ChatSession d = sessions.open(null, "d").session();
        assertTrue(sessions.find(b.id()).isEmpty(), "b idled longest");
        assertTrue(sessions.find(a.id()).isPresent());
        assertTrue(sessions.find(c.id()).isPresent());
        assertTrue(sessions.find(d.id()).isPresent());
        assertEquals(3, sessions.size());
    }

    @Test
    void idleSessionsWithoutAConnectionExpire() {
        ChatSessions sessions = sessions(Map.of("resident.session-idle-timeout", "10m"));
        ChatSession connected = sessions.open(null, "a").session();
        ChatSession left = sessions.open(null, "b").session();
        sessions.release(left, "b");
        long now = System.nanoTime();

        assertEquals(0, sessions.removeIdle(now + Duration.ofMinutes(9).toNanos()));
        assertEquals(1, sessions.removeIdle(now + Duration.ofMinutes(11).toNanos()));
        assertTrue(sessions.find(left.id()).isEmpty());
        assertTrue(sessions.find(connected.id()).isPresent(), "a session with a connection never expires");

        // activity restarts the idle clock
        sessions.release(connected, "a");
        connected.touch(now + Duration.ofMinutes(20).toNanos());
        assertEquals(0, sessions.removeIdle(now + Duration.ofMinutes(29).toNanos()));
        assertEquals(1, sessions.removeIdle(now + Duration.ofMinutes(31).toNanos()));
        assertEquals(0.0, registry.get("resident.sessions.active").gauge().value());
    }
}
