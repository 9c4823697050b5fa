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

    private static final String CLIENT = "10.0.0.1";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private ChatSessions sessions(Map<String, String> settings) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDiscoveredConverters().withMapping(ResidentConfig.class)
                .withDefaultValues(settings).build();
        return new ChatSessions(config.getConfigMapping(ResidentConfig.class), registry, new InMemorySessionStore());
    }

    @Test
    void theWindowKeepsTheLastTwentyMessagesAndTheSystemPromptApart() {
        ChatSession session = sessions(Map.of()).open(null, "c1", CLIENT).session();
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
        ChatSessions.Opened first = sessions.open(null, "c1", CLIENT);
        assertFalse(first.resumed());
        first.session().addTurn("hi", "hello");

        ChatSessions.Opened again = sessions.open(first.session().id(), "c2", CLIENT);
        assertTrue(again.resumed());
        assertEquals("c1", again.previousOwner(), "c1 had not closed yet");
        assertEquals(2, again.session().size());
        assertTrue(again.session().ownedBy("c2"));
        sessions.release(again.session(), "c1"); // the old connection's close comes late and changes nothing
        assertTrue(again.session().ownedBy("c2"));

        ChatSessions.Opened unknown = sessions.open("no-such-session", "c3", CLIENT);
        assertFalse(unknown.resumed());
        assertNotEquals("no-such-session", unknown.session().id(), "clients never choose session ids");
        assertEquals(2, sessions.size());
        assertEquals(2.0, registry.get("resident.sessions.active").gauge().value());
    }

    @Test
    void atTheLimitTheLongestIdleSessionWithoutAConnectionMakesRoom() throws InterruptedException {
        ChatSessions sessions = sessions(Map.of("resident.max-sessions", "3"));
        ChatSession a = sessions.open(null, "a", CLIENT).session();
        ChatSession b = sessions.open(null, "b", CLIENT).session();
        ChatSession c = sessions.open(null, "c", CLIENT).session();
        SessionLimitException full = assertThrows(SessionLimitException.class, () -> sessions.open(null, "d", CLIENT));
        assertEquals("all 3 chat sessions are in use by open connections; try again later", full.getMessage());

        sessions.release(b, "b");
        Thread.sleep(2);
        sessions.release(a, "a");
        ChatSession d = sessions.open(null, "d", CLIENT).session();
        assertTrue(sessions.find(b.id()).isEmpty(), "b idled longest");
        assertTrue(sessions.find(a.id()).isPresent());
        assertTrue(sessions.find(c.id()).isPresent());
        assertTrue(sessions.find(d.id()).isPresent());
        assertEquals(3, sessions.size());
    }

    @Test
    void idleSessionsWithoutAConnectionExpire() {
        ChatSessions sessions = sessions(Map.of("resident.session-idle-timeout", "10m"));
        ChatSession connected = sessions.open(null, "a", CLIENT).session();
        ChatSession left = sessions.open(null, "b", CLIENT).session();
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

    @Test
    void aClientAtItsShareDisplacesItsOwnSessionsNeverAnotherClients() throws InterruptedException {
        ChatSessions sessions = sessions(Map.of("resident.max-sessions-per-client", "2"));
        ChatSession other = sessions.open(null, "o", "10.0.0.2").session();
        sessions.release(other, "o");
        Thread.sleep(2);
        ChatSession first = sessions.open(null, "a", CLIENT).session();
        ChatSession second = sessions.open(null, "b", CLIENT).session();
        SessionLimitException full = assertThrows(SessionLimitException.class, () -> sessions.open(null, "c", CLIENT));
        assertTrue(full.getMessage().startsWith("this address holds 2 chat sessions, each with an open connection"),
                full.getMessage());

        sessions.release(first, "a");
        ChatSession third = sessions.open(null, "c", CLIENT).session();
        assertTrue(sessions.find(first.id()).isEmpty(), "the client's own idle session made room");
        assertTrue(sessions.find(other.id()).isPresent(), "the other client's session, idle longer, stays");
        assertTrue(sessions.find(second.id()).isPresent());
        assertTrue(sessions.find(third.id()).isPresent());
    }

    @Test
    void aClientOpensAtMostItsSessionsPerMinuteAndResumesFreely() {
        ChatSessions sessions = sessions(Map.of("resident.new-sessions-per-client-per-minute", "3"));
        List<ChatSession> opened = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            opened.add(sessions.open(null, "c" + i, CLIENT).session());
            sessions.release(opened.getLast(), "c" + i);
        }
        SessionLimitException tooMany = assertThrows(SessionLimitException.class, () -> sessions.open(null, "c3", CLIENT));
        assertTrue(tooMany.getMessage().startsWith("this address has opened 3 chat sessions within a minute"),
                tooMany.getMessage());
        assertTrue(sessions.open(opened.getFirst().id(), "c4", CLIENT).resumed(), "a resume opens nothing new");
        assertFalse(sessions.open(null, "d", "10.0.0.2").resumed(), "another address has its own budget");
        assertEquals(4, sessions.size());
    }
}
