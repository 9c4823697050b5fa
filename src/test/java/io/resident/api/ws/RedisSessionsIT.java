package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.chatFrame;
import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.resident.RedisServer;
import io.resident.ServiceProcess;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two packaged instances (java -jar, the demo model) sharing one real redis-server: a session resumes on either with
 * every message, a SIGKILL loses nothing answered, a take-over closes the other instance's connection, concurrent
 * turns of two connections stay whole, and a Redis outage turns readiness DOWN and chats busy, losing no turn.
 */
class RedisSessionsIT {

    private static final ObjectNode SHORT = options("max_tokens", 4);
    /** A reply long enough to be still running when the test acts on it. */
    private static final ObjectNode LONG = options("max_tokens", 200);

    @TempDir
    static Path temp;

    private static RedisServer redis;
    private static ServiceProcess a;
    private static ServiceProcess b;
    private static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        redis = RedisServer.start(temp.resolve("redis"));
        // one after the other: two loading at once may outlast the readiness wait on a busy machine
        a = instance();
        a.awaitReady();
        b = instance();
        b.awaitReady();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closing : new AutoCloseable[] {a, b, redis}) {
            if (closing != null) {
                closing.close();
            }
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static ServiceProcess instance() throws Exception {
        return ServiceProcess.start(Map.of("RESIDENT_SESSION_STORE", "redis", "QUARKUS_REDIS_HOSTS", redis.hosts(),
                "HF_HUB_OFFLINE", "1"), temp);
    }

    private static ChatClient open(ServiceProcess instance, String sessionId) {
        return ChatClient.open(vertx, endpoint(instance), sessionId == null ? null : "session=" + sessionId);
    }

    private static URI endpoint(ServiceProcess instance) {
        return URI.create("ws://127.0.0.1:" + instance.port() + "/ws/chat");
    }

    /** The session's messages as the session frame of a new connection shows them: "role: content". */
    private static List<String> messages(JsonNode session) {
        List<String> messages = new ArrayList<>();
        session.get("messages").forEach(m -> messages.add(m.get("role").asText() + ": " + m.get("content").asText()));
        return messages;
    }

    private static JsonNode done(ChatClient.Reply reply) {
        assertEquals("done", reply.type(), reply.end().toString());
        return reply.end();
    }

    @Test
    void aSessionOpenedOnOneInstanceResumesOnTheOtherWithEveryMessage() {
        List<String> expected = new ArrayList<>();
        String id;
        try (ChatClient chat = open(a, null)) {
            assertFalse(chat.session().get("resumed").asBoolean());
            chat.send(ChatClient.JSON.createObjectNode().put("type", "system").put("content", "Be brief."));
            chat.next("system");
            for (String question : List.of("Hello", "And again")) {
                ChatClient.Reply reply = chat.chat(question, SHORT);
                done(reply);
                expected.add("user: " + question);
                expected.add("assistant: " + reply.text());
            }
            id = chat.sessionId();
        }
        try (ChatClient chat = open(b, id)) {
            JsonNode session = chat.session();
            assertTrue(session.get("resumed").asBoolean(), session.toString());
            assertEquals(id, chat.sessionId());
            assertEquals("Be brief.", session.get("systemPrompt").asText());
            assertEquals(expected, messages(session));
            assertEquals(6, done(chat.chat("On the other instance", SHORT)).get("memoryMessages").asInt());
        }
    }

    @Test
    void aTakeOverOnTheOtherInstanceClosesTheOldConnection() {
        try (ChatClient first = open(a, null)) {
            done(first.chat("Hello", SHORT));
            try (ChatClient second = open(b, first.sessionId())) {
                assertTrue(second.session().get("resumed").asBoolean());
                assertEquals(4000, first.awaitClose(), "the connection on the first instance is taken over");
                assertEquals(4, done(second.chat("Still here", SHORT)).get("memoryMessages").asInt());
            }
        }
    }

    @Test
    void concurrentTurnsOfTwoConnectionsToOneSessionKeepTheWindowWhole() {
        String id;
        try (ChatClient first = open(a, null)) {
            id = first.sessionId();
            done(first.chat("Before", SHORT));
            first.send(frame("A long story, please", LONG));
            first.next("delta");
            // the second connection's turn runs while the first one's reply is cut and written
            try (ChatClient second = open(b, id)) {
                second.send(frame("Meanwhile", SHORT));
                done(second.readTurn());
                assertEquals(4000, first.awaitClose());
            }
        }
        try (ChatClient check = open(a, id)) {
            List<String> window = messages(check.session());
            assertEquals(6, window.size(), window.toString());
            for (int i = 0; i < window.size(); i += 2) {
                assertTrue(window.get(i).startsWith("user: "), window.toString());
                assertTrue(window.get(i + 1).startsWith("assistant: "), window.toString());
            }
            assertEquals("user: Before", window.get(0));
            List<String> questions = List.of(window.get(2), window.get(4));
            assertTrue(questions.contains("user: A long story, please") && questions.contains("user: Meanwhile"), window.toString());
        }
    }

    @Test
    void aSigkilledInstanceLosesNothingAnswered() throws Exception {
        List<String> expected = new ArrayList<>();
        ChatClient chat = open(a, null);
        String id = chat.sessionId();
        for (String question : List.of("One", "Two", "Three")) {
            ChatClient.Reply reply = chat.chat(question, SHORT);
            done(reply);
            expected.add("user: " + question);
            expected.add("assistant: " + reply.text());
        }
        a.process().destroyForcibly(); // SIGKILL
        assertTrue(a.process().waitFor(30, TimeUnit.SECONDS));
        chat.awaitClose();
        chat.close();
        a = instance();
        a.awaitReady();
        try (ChatClient resumed = open(a, id)) {
            assertTrue(resumed.session().get("resumed").asBoolean());
            assertEquals(expected, messages(resumed.session()));
        }
    }

    @Test
    void redisStoppedAndRestartedTurnsReadinessDownThenUpAndLosesNoTurn() throws Exception {
        ChatClient chat = open(a, null);
        ChatClient idle = open(b, null);
        String id = chat.sessionId();
        done(chat.chat("Before the outage", SHORT));
        chat.send(frame("A long story, please", LONG));
        chat.next("delta");

        redis.stop();
        String ready = a.get("/q/health/ready");
        assertTrue(ready.startsWith("503 "), ready);
        assertTrue(ready.matches("(?s).*\"name\": \"session-store\",\\s*\"status\": \"DOWN\".*"), ready);
        assertTrue(ready.contains("the session store (Redis) is unreachable"), ready);
        // an open connection's chat is answered busy; a new connection is refused busy (1013)
        idle.send(frame("Anyone there?", SHORT));
        JsonNode busy = idle.readTurn().end();
        assertEquals("busy", busy.path("code").asText(), busy.toString());
        try (ChatClient refused = ChatClient.connect(vertx, endpoint(b))) {
            assertEquals("busy", refused.next("error").path("code").asText());
            assertEquals(1013, refused.awaitClose());
        }

        redis.restart();
        a.awaitReady();
        b.awaitReady();
        // the long reply's memory waited for Redis; nothing was lost
        assertEquals(4, done(chat.readTurn()).get("memoryMessages").asInt());
        assertEquals(6, done(chat.chat("After the outage", SHORT)).get("memoryMessages").asInt());
        assertEquals(2, done(idle.chat("Anyone there now?", SHORT)).get("memoryMessages").asInt());
        idle.close();
        try (ChatClient other = open(b, id)) {
            List<String> window = messages(other.session());
            assertEquals(List.of("user: Before the outage", "user: A long story, please", "user: After the outage"),
                    window.stream().filter(m -> m.startsWith("user: ")).toList());
            assertEquals(4000, chat.awaitClose(), "take-overs reach the other instance again");
        }
        chat.close();
    }

    private static ObjectNode frame(String content, ObjectNode options) {
        ObjectNode frame = chatFrame(content);
        frame.set("options", options);
        return frame;
    }
}
