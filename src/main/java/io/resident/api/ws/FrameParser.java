package io.resident.api.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.resident.api.ws.ClientFrame.Cancel;
import io.resident.api.ws.ClientFrame.Chat;
import io.resident.api.ws.ClientFrame.Reset;
import io.resident.api.ws.ClientFrame.SystemPrompt;
import java.util.Locale;

/** Reads a client's text frame into a {@link ClientFrame}, refusing anything the protocol does not allow. */
final class FrameParser {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private FrameParser() {}

    /**
     * @param maxBytes  the largest frame accepted, in UTF-8 bytes
     * @param maxLength the longest chat or system content, in code points
     * @throws InvalidFrameException anything the protocol does not allow
     */
    static ClientFrame parse(String text, long maxBytes, int maxLength) {
        long bytes = utf8Length(text);
        if (bytes > maxBytes) {
            throw new InvalidFrameException("the frame has " + bytes + " bytes; at most " + maxBytes + " are accepted");
        }
        // the transport decodes text frames leniently, turning invalid UTF-8 into U+FFFD
        if (text.indexOf('\uFFFD') >= 0) {
            throw new InvalidFrameException("the frame is not valid UTF-8 (a literal U+FFFD must be sent escaped, as \\ufffd)");
        }
        JsonNode frame;
        try {
            frame = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidFrameException("the frame is not JSON: " + e.getOriginalMessage());
        }
        if (frame == null || !frame.isObject()) {
            throw new InvalidFrameException("a frame must be a JSON object with a \"type\"");
        }
        JsonNode type = frame.get("type");
        if (type == null || !type.isTextual()) {
            throw new InvalidFrameException("a frame needs a string \"type\": chat, system, reset or cancel");
        }
        return switch (type.textValue()) {
            case "chat" -> new Chat(content(frame, maxLength, false), ChatOptions.parse(frame.get("options")));
            case "system" -> new SystemPrompt(content(frame, maxLength, true));
            case "reset" -> new Reset();
            case "cancel" -> new Cancel();
            default -> throw new InvalidFrameException("unknown frame type \"" + type.textValue()
                    + "\"; the types are chat, system, reset and cancel");
        };
    }

    private static String content(JsonNode frame, int maxLength, boolean blankAllowed) {
        String type = frame.get("type").textValue();
        JsonNode content = frame.get("content");
        if (content == null || !content.isTextual()) {
            throw new InvalidFrameException("a " + type + " frame needs a string \"content\""
                    + (content == null ? "" : ", not " + content.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        String text = content.textValue();
        if (!blankAllowed && text.isBlank()) {
            throw new InvalidFrameException("a chat frame's content must not be empty");
        }
        int length = text.codePointCount(0, text.length());
        if (length > maxLength) {
            throw new InvalidFrameException("the content has " + length + " characters; at most " + maxLength + " are accepted");
        }
        return text;
    }

    private static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
