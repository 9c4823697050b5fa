package io.resident.api.ws;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.resident.chat.ChatSession;
import io.resident.engine.FinishReason;
import io.resident.engine.GenerationEvent.Done;
import io.resident.tokenizer.Message;
import java.time.Duration;
import java.util.Locale;

/** The JSON text frames the server sends, with the field names clients rely on. */
final class ServerFrames {

    /** An error frame's code. */
    enum Code {
        INVALID_REQUEST, BUSY, CONTEXT_OVERFLOW, UNAUTHORIZED, INTERNAL;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ServerFrames() {}

    /** The first frame of a connection: which session it holds, with its memory so that a page can show it again. */
    static String session(ChatSession.Conversation conversation, String sessionId, boolean resumed, String model,
            boolean demo, int window) {
        ObjectNode frame = frame("session")
                .put("sessionId", sessionId)
                .put("resumed", resumed)
                .put("model", model)
                .put("demo", demo)
                .put("memoryWindow", window)
                .put("memoryMessages", conversation.messages().size())
                .put("systemPrompt", conversation.systemPrompt());
        ArrayNode messages = frame.putArray("messages");
        for (Message message : conversation.messages()) {
            messages.addObject().put("role", message.role()).put("content", message.content());
        }
        return frame.toString();
    }

    static String delta(String text) {
        return frame("delta").put("text", text).toString();
    }

    static String done(Done done, int memoryMessages) {
        return done(done.reason(), done.promptTokens(), done.cachedTokens(), done.completionTokens(),
                done.timeToFirstToken(), done.tokensPerSecond(), memoryMessages);
    }

    /** A turn cancelled before the engine admitted it. */
    static String cancelledBeforeStart(int promptTokens, int memoryMessages) {
        return done(FinishReason.CANCELLED, promptTokens, 0, 0, Duration.ZERO, 0, memoryMessages);
    }

    static String error(Code code, String message) {
        return frame("error").put("code", code.wire()).put("message", message).toString();
    }

    /** A busy error with a hint of when to try again. */
    static String busy(String message, Duration retryAfter) {
        return frame("error").put("code", Code.BUSY.wire()).put("message", message)
                .put("retryAfterMs", retryAfter.toMillis()).toString();
    }

    static String reset(int memoryMessages) {
        return frame("reset").put("memoryMessages", memoryMessages).toString();
    }

    /** Acknowledges a system frame. */
    static String system(String systemPrompt, int memoryMessages) {
        return frame("system").put("systemPrompt", systemPrompt).put("memoryMessages", memoryMessages).toString();
    }

    private static String done(FinishReason reason, int promptTokens, int cachedTokens, int completionTokens,
            Duration timeToFirstToken, double tokensPerSecond, int memoryMessages) {
        ObjectNode frame = frame("done").put("finishReason", reason.name().toLowerCase(Locale.ROOT));
        frame.putObject("usage").put("promptTokens", promptTokens).put("cachedTokens", cachedTokens)
                .put("completionTokens", completionTokens);
        frame.put("memoryMessages", memoryMessages);
        frame.putObject("timings")
                .put("ttftMs", Math.round(timeToFirstToken.toNanos() / 1e5) / 10.0)
                .put("tokensPerSecond", Math.round(tokensPerSecond * 10) / 10.0);
        return frame.toString();
    }

    private static ObjectNode frame(String type) {
        return JSON.createObjectNode().put("type", type);
    }
}
