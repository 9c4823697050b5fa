package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.ResidentConfig;
import io.resident.chat.ChatSession;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every frame the protocol does not allow gets an invalid_request error frame; the connection and the memory stay as they were. */
@QuarkusTest
class BadFramesTest extends RunningChatApp {

    @Inject
    ResidentConfig config;


    @Test
    void eachBadTextFrameIsAnsweredAndChangesNothing() {
        long maxFrame = config.maxFrameSize().asLongValue();
        // frame -> a word the error message must contain
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{\"type\":\"chat\",\"content\":\"hi\"", "not JSON");
        bad.put("not json at all", "not JSON");
        bad.put("{\"type\":\"reset\"} {\"type\":\"reset\"}", "not JSON");
        bad.put("[\"chat\",\"hi\"]", "JSON object");
        bad.put("\"chat\"", "JSON object");
        bad.put("{\"content\":\"hi\"}", "\"type\"");
        bad.put("{\"type\":7}", "\"type\"");
        bad.put("{\"type\":\"shout\",\"content\":\"hi\"}", "unknown frame type \"shout\"");
        bad.put("{\"type\":\"chat\"}", "needs a string \"content\"");
        bad.put("{\"type\":\"chat\",\"content\":42}", "needs a string \"content\"");
        bad.put("{\"type\":\"chat\",\"content\":null}", "needs a string \"content\"");
        bad.put("{\"type\":\"chat\",\"content\":[\"hi\"]}", "needs a string \"content\"");
        bad.put("{\"type\":\"system\",\"content\":{}}", "needs a string \"content\"");
        bad.put("{\"type\":\"chat\",\"content\":\"  \"}", "must not be empty");
        bad.put(chat("\"options\":\"fast\""), "options must be an object");
        bad.put(chat("\"options\":{\"temperature\":\"hot\"}"), "options.temperature must be a number");
        bad.put(chat("\"options\":{\"temperature\":true}"), "options.temperature must be a number");
        bad.put(chat("\"options\":{\"top_p\":[0.5]}"), "options.top_p must be a number");
        bad.put(chat("\"options\":{\"top_k\":1.5}"), "options.top_k must be an integer");
        bad.put(chat("\"options\":{\"max_tokens\":\"10\"}"), "options.max_tokens must be an integer");
        bad.put(chat("\"options\":{\"max_tokens\":1e12}"), "options.max_tokens must be an integer");
        bad.put(chat("\"options\":{\"seed\":\"lucky\"}"), "options.seed must be a 64-bit integer");
        bad.put(chat("\"options\":{\"stop\":5}"), "options.stop must be a string or an array of strings");
        bad.put(chat("\"options\":{\"stop\":[\"a\",1]}"), "options.stop must be a string or an array of strings");
        bad.put(chat("\"options\":{\"stream\":\"words\"}"), "options.stream must be \"token\" or \"semantic\"");
        bad.put(chat("\"options\":{\"stream\":1}"), "options.stream must be a string");
        bad.put(chat("\"options\":{\"temprature\":0.5}"), "unknown option \"temprature\"");
        bad.put(chat("\"options\":{\"temperature\":-0.1}"), "options.temperature must be in [0, 2], was -0.1");
        bad.put(chat("\"options\":{\"temperature\":2.5}"), "options.temperature must be in [0, 2], was 2.5");
        bad.put(chat("\"options\":{\"top_p\":1.5}"), "options.top_p must be in (0, 1], was 1.5");
        bad.put(chat("\"options\":{\"top_p\":0}"), "options.top_p must be in (0, 1], was 0.0");
        bad.put(chat("\"options\":{\"top_k\":-1}"), "options.top_k must be >= 0, was -1");
        bad.put(chat("\"options\":{\"max_tokens\":0}"), "options.max_tokens must be >= 1, was 0");
        bad.put(chat("\"options\":{\"stop\":[\"\"]}"), "stop strings must not be empty");
        bad.put(chat("\"options\":{\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), "options.stop must hold at most 4 strings");
        bad.put(chat("\"options\":{\"stop\":\"" + "z".repeat(257) + "\"}"), "of at most 256 characters each; it has 1, the longest of 257");
        String longContent = "x".repeat(config.maxMessageLength() + 1);
        bad.put("{\"type\":\"chat\",\"content\":\"" + longContent + "\"}", "the content has " + (config.maxMessageLength() + 1) + " characters");
        bad.put("{\"type\":\"system\",\"content\":\"" + longContent + "\"}", "at most " + config.maxMessageLength());
        bad.put("{\"type\":\"chat\",\"content\":\"" + "y".repeat((int) maxFrame) + "\"}", "at most " + maxFrame + " are accepted");
        bad.put("{\"type\":\"chat\",\"content\":\"\uFFFD\"}", "not valid UTF-8");

        try (ChatClient chat = ChatClient.open(vertx, endpoint, null)) {
            chat.send("{\"type\":\"system\",\"content\":\"Be kind.\"}");
            chat.next("system");
            chat.chat("Hi", options("max_tokens", 2));
            ChatSession session = sessions.find(chat.sessionId()).orElseThrow();
            ChatSession.Conversation before = session.conversation();

            bad.forEach((frame, expected) -> {
                chat.send(frame);
                assertInvalid(chat.next(), expected, frame);
                assertEquals(before, session.conversation(), "after " + abbreviate(frame));
            });

            chat.sendBinary("{\"type\":\"chat\",\"content\":\"hi\"}".getBytes(StandardCharsets.UTF_8));
            assertInvalid(chat.next(), "binary frames are not part of the protocol", "a binary frame");

            byte[] invalidUtf8 = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, '"', '}'};
            chat.sendTextBytes("{\"type\":\"chat\",\"content\":\"", invalidUtf8);
            assertInvalid(chat.next(), "not valid UTF-8", "invalid UTF-8");

            // a literal U+FFFD is fine when escaped
            chat.send("{\"type\":\"system\",\"content\":\"Be kind.\\ufffd\"}");
            assertEquals("Be kind.\uFFFD", chat.next("system").get("systemPrompt").asText());
            chat.send("{\"type\":\"system\",\"content\":\"Be kind.\"}");
            chat.next("system");
            assertEquals(before, session.conversation());

            // the connection still works
            ChatClient.Reply reply = chat.chat("Still there?", options("max_tokens", 2));
            assertEquals(4, reply.end().get("memoryMessages").asInt(), reply.end().toString());
        }
    }

    @Test
    void aMessageBeyondWhatTheServerReadsIsRefusedAndClosesTheConnection() {
        int cap = TransportLimits.cap(config);
        // sent in 64 KiB frames, as a client may fragment it: the server stops collecting at the cap
        try (ChatClient chat = ChatClient.connect(vertx, endpoint, null, Map.of(), 64 << 10)) {
            String id = chat.next("session").get("sessionId").asText();
            chat.send("{\"type\":\"chat\",\"content\":\"" + "z".repeat(cap) + "\"}");
            assertInvalid(chat.next(), "the message exceeds " + cap + " bytes", "a message past the cap");
            assertEquals(1009, chat.awaitClose());
            assertEquals(0, sessions.find(id).orElseThrow().size());
        }
        // one frame past the cap is not read at all: the connection is dropped
        try (ChatClient chat = ChatClient.open(vertx, endpoint, null)) {
            chat.send("{\"type\":\"chat\",\"content\":\"" + "z".repeat(cap) + "\"}");
            assertEquals(1006, chat.awaitClose());
            assertEquals(0, sessions.find(chat.sessionId()).orElseThrow().size());
        }
    }

    private static String chat(String options) {
        return "{\"type\":\"chat\",\"content\":\"hi\"," + options + "}";
    }

    private static void assertInvalid(JsonNode frame, String expected, String sent) {
        assertEquals("error", frame.path("type").asText(), "answer to " + abbreviate(sent) + ": " + frame);
        assertEquals("invalid_request", frame.path("code").asText(), frame.toString());
        assertTrue(frame.path("message").asText().contains(expected),
                "answer to " + abbreviate(sent) + ": \"" + frame.path("message").asText() + "\" should say " + expected);
    }

    private static String abbreviate(String frame) {
        return frame.length() > 80 ? frame.substring(0, 80) + "..." : frame;
    }
}
