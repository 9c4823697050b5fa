package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.chat.ChatSession;
import io.resident.engine.Engine;
import io.resident.tokenizer.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The chat protocol end to end: a real WebSocket client against the running app, serving the built-in demo model
 * (random weights, so replies are noise, with Qwen3's real tokenizer and chat template).
 */
@QuarkusTest
class ChatSocketTest extends RunningChatApp {

    /** A reply long enough to be still running when the test acts on it. */
    private static final int LONG = 2000;

    @BeforeEach
    void engineIdle() throws InterruptedException {
        ChatClient.awaitIdle(engine());
    }

    private ChatClient open() {
        return ChatClient.open(vertx, endpoint, null);
    }

    private List<Message> memory(ChatClient chat) {
        return sessions.find(chat.sessionId()).orElseThrow().conversation().messages();
    }

    private int promptTokens(Message... messages) {
        return holder.served().tokenizer().chatPrompt(List.of(messages)).length;
    }

    private Engine engine() {
        return holder.served().engine();
    }

    @Test
    void aTurnStreamsDeltasThenDoneAndEntersMemory() {
        try (ChatClient chat = open()) {
            JsonNode session = chat.session();
            assertFalse(session.get("resumed").asBoolean());
            assertEquals("resident-demo", session.get("model").asText());
            assertTrue(session.get("demo").asBoolean());
            assertEquals(20, session.get("memoryWindow").asInt());
            assertEquals(0, session.get("memoryMessages").asInt());

            ChatClient.Reply reply = chat.chat("Hello there", options("max_tokens", 5, "temperature", 1.0, "seed", 7));
            JsonNode done = reply.end();
            assertEquals("done", reply.type(), done.toString());
            assertEquals("length", done.get("finishReason").asText());
            assertEquals(5, done.at("/usage/completionTokens").asInt());
            assertEquals(promptTokens(new Message("user", "Hello there")), done.at("/usage/promptTokens").asInt());
            assertTrue(done.at("/timings/ttftMs").asDouble() > 0);
            assertTrue(done.at("/timings/tokensPerSecond").asDouble() > 0);
            assertEquals(2, done.get("memoryMessages").asInt());
            assertFalse(reply.text().isEmpty());
            assertEquals(List.of(new Message("user", "Hello there"), new Message("assistant", reply.text())), memory(chat));
        }
    }

    @Test
    void theWindowHoldsExactlyTwentyMessages() {
        try (ChatClient chat = open()) {
            List<Message> sent = new ArrayList<>();
            for (int turn = 1; turn <= 12; turn++) {
                ChatClient.Reply reply = chat.chat("message " + turn, options("max_tokens", 1, "temperature", 1.0, "seed", turn));
                assertEquals(Math.min(20, 2 * turn), reply.end().get("memoryMessages").asInt(), reply.end().toString());
                sent.add(new Message("user", "message " + turn));
                sent.add(new Message("assistant", reply.text()));
            }
            assertEquals(sent.subList(4, 24), memory(chat), "turns 3 to 12, the two oldest turns evicted");
        }
    }

    @Test
    void resumeWithTheSessionIdGivesTheMemoryBack() {
        String id;
        ChatClient.Reply first;
        try (ChatClient chat = open()) {
            id = chat.sessionId();
            first = chat.chat("Remember me", options("max_tokens", 3));
        }
        try (ChatClient chat = ChatClient.open(vertx, endpoint, "session=" + id)) {
            JsonNode session = chat.session();
            assertTrue(session.get("resumed").asBoolean());
            assertEquals(id, chat.sessionId());
            assertEquals(2, session.get("memoryMessages").asInt());
            assertEquals("Remember me", session.at("/messages/0/content").asText());
            assertEquals("user", session.at("/messages/0/role").asText());
            assertEquals(first.text(), session.at("/messages/1/content").asText());
            assertEquals("assistant", session.at("/messages/1/role").asText());

            ChatClient.Reply second = chat.chat("And again", options("max_tokens", 2));
            assertEquals(4, second.end().get("memoryMessages").asInt());
            // the second prompt holds the first turn
            assertEquals(promptTokens(new Message("user", "Remember me"), new Message("assistant", first.text()),
                    new Message("user", "And again")), second.end().at("/usage/promptTokens").asInt());
        }
        try (ChatClient chat = ChatClient.open(vertx, endpoint, "session=no-such-session")) {
            assertFalse(chat.session().get("resumed").asBoolean());
            assertNotEquals("no-such-session", chat.sessionId());
            assertEquals(0, chat.session().get("memoryMessages").asInt());
        }
    }

    @Test
    void resumingASessionStillOpenElsewhereTakesItOver() {
        try (ChatClient old = open()) {
            old.chat("Before the network switch", options("max_tokens", 2));
            old.send(ChatClient.chatFrame("a long reply").set("options", options("max_tokens", LONG)));
            old.next("delta");
            try (ChatClient resumed = ChatClient.open(vertx, endpoint, "session=" + old.sessionId())) {
                // the old connection's reply is cancelled and remembered before the new one gets the session
                ChatClient.Reply cancelled = old.readTurn();
                assertEquals("cancelled", cancelled.end().get("finishReason").asText());
                assertEquals(ChatConnection.TAKEN_OVER, old.awaitClose());
                assertTrue(resumed.session().get("resumed").asBoolean());
                assertEquals(4, resumed.session().get("memoryMessages").asInt());
                assertEquals("a long reply", resumed.session().at("/messages/2/content").asText());
                assertEquals(4, memory(resumed).size());
            }
        }
    }

    @Test
    void resetEmptiesTheMemoryAndKeepsTheSystemPrompt() {
        try (ChatClient chat = open()) {
            chat.send("{\"type\":\"system\",\"content\":\"You are terse.\"}");
            chat.next("system");
            chat.chat("one", options("max_tokens", 2));
            chat.chat("two", options("max_tokens", 2));
            assertEquals(4, memory(chat).size());

            chat.send("{\"type\":\"reset\"}");
            JsonNode reset = chat.next("reset");
            assertEquals(0, reset.get("memoryMessages").asInt());
            assertEquals(List.of(), memory(chat));
            assertEquals("You are terse.", sessions.find(chat.sessionId()).orElseThrow().systemPrompt());

            ChatClient.Reply after = chat.chat("three", options("max_tokens", 2));
            assertEquals(2, after.end().get("memoryMessages").asInt());
            assertEquals(promptTokens(new Message("system", "You are terse."), new Message("user", "three")),
                    after.end().at("/usage/promptTokens").asInt());
        }
    }

    @Test
    void turnTwoReadsTurnOnesFullBlocksFromThePrefixCacheAndSaysSo() {
        try (ChatClient chat = open()) {
            String system = "You keep the minutes of a rowing club's committee: every decision in one numbered line, "
                    + "names as given, no opinions. Session " + System.nanoTime() + ".";
            chat.send(ChatClient.JSON.createObjectNode().put("type", "system").put("content", system).toString());
            chat.next("system");
            ChatClient.Reply first = chat.chat("The boathouse roof gets repaired in May.", options("max_tokens", 6));
            int turnOne = first.end().at("/usage/promptTokens").asInt();
            assertEquals(0, first.end().at("/usage/cachedTokens").asInt(), "a new system prompt: nothing cached");
            ChatClient.Reply second = chat.chat("And the regatta moves to June.", options("max_tokens", 2));
            int cached = second.end().at("/usage/cachedTokens").asInt();
            assertTrue(turnOne >= 32 && cached >= turnOne / 16 * 16, cached + " of turn one's " + turnOne + " prompt tokens cached");
            assertTrue(cached < second.end().at("/usage/promptTokens").asInt());
        }
    }

    @Test
    void theSystemPromptOpensEveryPromptOutsideTheWindow() {
        try (ChatClient chat = open()) {
            chat.send("{\"type\":\"system\",\"content\":\"Answer in French.\"}");
            JsonNode ack = chat.next("system");
            assertEquals("Answer in French.", ack.get("systemPrompt").asText());
            assertEquals(0, ack.get("memoryMessages").asInt());

            ChatClient.Reply first = chat.chat("Hi", options("max_tokens", 2));
            assertEquals(promptTokens(new Message("system", "Answer in French."), new Message("user", "Hi")),
                    first.end().at("/usage/promptTokens").asInt());
            assertEquals(2, first.end().get("memoryMessages").asInt(), "the system prompt is not in the window");
            ChatClient.Reply second = chat.chat("Ok", options("max_tokens", 2));
            assertEquals(promptTokens(new Message("system", "Answer in French."), new Message("user", "Hi"),
                    new Message("assistant", first.text()), new Message("user", "Ok")),
                    second.end().at("/usage/promptTokens").asInt());

            chat.send("{\"type\":\"system\",\"content\":\"\"}");
            assertTrue(chat.next("system").get("systemPrompt").isNull());
            ChatClient.Reply third = chat.chat("Bye", options("max_tokens", 1));
            assertEquals(promptTokens(new Message("user", "Hi"), new Message("assistant", first.text()),
                    new Message("user", "Ok"), new Message("assistant", second.text()), new Message("user", "Bye")),
                    third.end().at("/usage/promptTokens").asInt());
        }
    }

    @Test
    void aCancelledReplyKeepsWhatWasGenerated() {
        try (ChatClient chat = open()) {
            chat.send(ChatClient.chatFrame("Tell me a long story").set("options", options("max_tokens", LONG)));
            List<String> deltas = new ArrayList<>(List.of(chat.next("delta").get("text").asText()));
            chat.send("{\"type\":\"cancel\"}");
            ChatClient.Reply rest = chat.readTurn();
            deltas.addAll(rest.deltas());
            JsonNode done = rest.end();
            assertEquals("cancelled", done.get("finishReason").asText(), done.toString());
            int generated = done.at("/usage/completionTokens").asInt();
            assertTrue(generated >= 1 && generated < LONG, done.toString());
            assertEquals(2, done.get("memoryMessages").asInt());
            assertEquals(List.of(new Message("user", "Tell me a long story"), new Message("assistant", String.join("", deltas))),
                    memory(chat));
        }
    }

    @Test
    void aReplyCancelledBeforeItsFirstTokenLeavesNoTrace() throws InterruptedException {
        List<ChatClient> holders = new ArrayList<>();
        try (ChatClient chat = open()) {
            ChatClient.Reply first = chat.chat("first", options("max_tokens", 1));
            // every batch slot busy, so the next reply waits for one and is cancelled while it waits
            for (int i = 0; i < engine().slots(); i++) {
                ChatClient holder = open();
                holders.add(holder);
                holder.send(ChatClient.chatFrame("hold a slot").set("options", options("max_tokens", LONG)));
                holder.next("delta");
            }
            chat.send(ChatClient.chatFrame("never answered"));
            awaitWaiting(1);
            chat.send("{\"type\":\"cancel\"}");
            ChatClient.Reply reply = chat.readTurn();
            assertEquals("cancelled", reply.end().get("finishReason").asText(), reply.end().toString());
            assertEquals(0, reply.end().at("/usage/completionTokens").asInt());
            assertEquals(List.of(), reply.deltas());
            assertEquals(2, reply.end().get("memoryMessages").asInt());
            assertEquals(List.of(new Message("user", "first"), new Message("assistant", first.text())), memory(chat));
        } finally {
            holders.forEach(ChatClient::close);
        }
    }

    @Test
    void aClientThatDisconnectsFreesItsBatchSlot() throws InterruptedException {
        ChatClient chat = open();
        String id = chat.sessionId();
        chat.send(ChatClient.chatFrame("Go on and on").set("options", options("max_tokens", LONG)));
        chat.next("delta");
        assertEquals(1, engine().stats().running());
        long closed = System.nanoTime();
        chat.close();
        while (engine().stats().running() > 0) {
            assertTrue(System.nanoTime() - closed < Duration.ofSeconds(10).toNanos(), "the slot was not freed");
            Thread.sleep(5);
        }
        // like a cancel: the partial reply stays in the session, which waits to be resumed
        ChatSession session = sessions.find(id).orElseThrow();
        awaitSize(session, 2);
        assertEquals("Go on and on", session.conversation().messages().getFirst().content());
    }

    @Test
    void aChatFrameWhileATurnRunsIsBusyAndChangesNothing() {
        try (ChatClient chat = open()) {
            chat.send(ChatClient.chatFrame("first").set("options", options("max_tokens", LONG)));
            List<String> deltas = new ArrayList<>(List.of(chat.next("delta").get("text").asText()));
            chat.send(ChatClient.chatFrame("second"));
            chat.send("{\"type\":\"reset\"}");
            chat.send("{\"type\":\"system\",\"content\":\"late\"}");
            int busy = 0;
            while (busy < 3) {
                JsonNode frame = chat.next();
                if (frame.get("type").asText().equals("delta")) {
                    deltas.add(frame.get("text").asText());
                } else {
                    assertEquals("error", frame.get("type").asText(), frame.toString());
                    assertEquals("busy", frame.get("code").asText());
                    busy++;
                }
            }
            chat.send("{\"type\":\"cancel\"}");
            ChatClient.Reply rest = chat.readTurn();
            deltas.addAll(rest.deltas());
            assertEquals("cancelled", rest.end().get("finishReason").asText());
            assertEquals(List.of(new Message("user", "first"), new Message("assistant", String.join("", deltas))), memory(chat));
            assertNull(sessions.find(chat.sessionId()).orElseThrow().systemPrompt());
        }
    }

    @Test
    void theOldestTurnsLeaveThePromptWhenTheContextIsFull() {
        int context = holder.served().maxContext();
        String a = "apple ".repeat(context * 2 / 5);
        String b = "banana ".repeat(context * 2 / 5);
        try (ChatClient chat = open()) {
            ChatClient.Reply first = chat.chat(a, options("max_tokens", 1));
            ChatClient.Reply second = chat.chat(b, options("max_tokens", 1));
            assertEquals(promptTokens(new Message("user", a), new Message("assistant", first.text()), new Message("user", b)),
                    second.end().at("/usage/promptTokens").asInt(), "both fit");

            int budget = context / 3;
            Message[] all = {new Message("user", a), new Message("assistant", first.text()), new Message("user", b),
                    new Message("assistant", second.text()), new Message("user", "c")};
            assertTrue(promptTokens(all) + budget > context, "the setup must overflow the context");
            chat.send(ChatClient.chatFrame("c").set("options", options("max_tokens", budget)));
            chat.send("{\"type\":\"cancel\"}");
            ChatClient.Reply third = chat.readTurn();
            assertEquals(promptTokens(all[2], all[3], all[4]), third.end().at("/usage/promptTokens").asInt(),
                    "the oldest turn left the prompt");
            assertEquals(List.of(all).subList(0, 4), memory(chat).subList(0, 4), "but not the memory");
        }
    }

    @Test
    void aMessageTooLongForTheContextIsRefused() {
        String huge = "word ".repeat(holder.served().maxContext() + 100);
        try (ChatClient chat = open()) {
            chat.chat("small", options("max_tokens", 1));
            ChatClient.Reply reply = chat.chat(huge, null);
            assertEquals("error", reply.type());
            assertEquals("context_overflow", reply.end().get("code").asText());
            assertTrue(reply.end().get("message").asText().contains("context holds " + holder.served().maxContext()),
                    reply.end().toString());
            assertEquals(2, memory(chat).size());

            ChatClient.Reply tooMuchReply = chat.chat("short", options("max_tokens", holder.served().maxContext()));
            assertEquals("context_overflow", tooMuchReply.end().get("code").asText());
            assertEquals(2, memory(chat).size());
        }
    }

    @Test
    void semanticStreamingSendsPhrasesOfTheSameText() {
        var sampled = options("max_tokens", 24, "temperature", 1.0, "seed", 1234);
        ChatClient.Reply token;
        ChatClient.Reply semantic;
        try (ChatClient chat = open()) {
            token = chat.chat("Write something", sampled.deepCopy().put("stream", "token"));
        }
        try (ChatClient chat = open()) {
            semantic = chat.chat("Write something", sampled.deepCopy().put("stream", "semantic"));
        }
        assertEquals(token.text(), semantic.text(), "the same seed gives the same reply");
        assertTrue(semantic.deltas().size() < token.deltas().size(), semantic.deltas() + " vs " + token.deltas());
        List<String> held = semantic.deltas().subList(0, semantic.deltas().size() - 1);
        for (String delta : held) {
            boolean boundary = "。！？，；.!?,;\n".indexOf(delta.charAt(delta.length() - 1)) >= 0;
            assertTrue(boundary || delta.codePointCount(0, delta.length()) >= StreamBuffer.SEMANTIC_MAX_HELD,
                    "a phrase ends at punctuation or holds 15 characters: \"" + delta + "\"");
        }
    }

    private void awaitWaiting(int waiting) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (engine().stats().waiting() < waiting) {
            assertTrue(System.nanoTime() < deadline, "no request waits for a slot");
            Thread.sleep(5);
        }
    }

    private static void awaitSize(ChatSession session, int size) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (session.size() != size) {
            assertTrue(System.nanoTime() < deadline, "the memory holds " + session.size() + " messages");
            Thread.sleep(5);
        }
    }
}
