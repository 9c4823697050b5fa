package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Reads a server-sent event stream as OpenAI's API frames it: "data: {json}" events, then "data: [DONE]". */
final class Sse {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Sse() {}

    /** The JSON chunks of a whole stream, after checking its framing. */
    static List<JsonNode> chunks(String body) {
        assertTrue(body.endsWith("data: [DONE]\n\n"), "the stream must end with data: [DONE]:\n" + body);
        List<JsonNode> chunks = new ArrayList<>();
        String[] events = body.split("\n\n");
        for (int i = 0; i < events.length - 1; i++) {
            assertTrue(events[i].startsWith("data: {") && !events[i].contains("\n"), "not one data line: " + events[i]);
            try {
                chunks.add(JSON.readTree(events[i].substring("data: ".length())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        assertEquals("data: [DONE]", events[events.length - 1]);
        return chunks;
    }

    /** The text of a chat stream's deltas (or a text completion stream's texts), joined. */
    static String text(List<JsonNode> chunks) {
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks) {
            for (JsonNode choice : chunk.get("choices")) {
                JsonNode part = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
                if (part != null && !part.isNull()) {
                    text.append(part.asText());
                }
            }
        }
        return text.toString();
    }
}
