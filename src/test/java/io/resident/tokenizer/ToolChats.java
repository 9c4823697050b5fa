package io.resident.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolDefinition;
import java.util.ArrayList;
import java.util.List;

/** The reference files' conversations with tools (HF's chat format) as this service's messages and tools. */
final class ToolChats {

    private ToolChats() {}

    static List<Message> messages(JsonNode turns) {
        List<Message> messages = new ArrayList<>();
        for (JsonNode m : turns) {
            List<ToolCall> calls = new ArrayList<>();
            m.path("tool_calls").forEach(c -> calls.add(call(c)));
            messages.add(new Message(m.get("role").asText(), m.get("content").asText(), calls,
                    m.hasNonNull("tool_call_id") ? m.get("tool_call_id").asText() : null));
        }
        return messages;
    }

    /** An HF tool call ({"id", "function": {"name", "arguments": {...}}}) with its arguments as JSON text. */
    static ToolCall call(JsonNode c) {
        return new ToolCall(c.get("id").asText(), c.get("function").get("name").asText(), c.get("function").get("arguments").toString());
    }

    static List<ToolDefinition> tools(JsonNode tools) {
        List<ToolDefinition> out = new ArrayList<>();
        for (JsonNode t : tools) {
            JsonNode f = t.get("function");
            out.add(new ToolDefinition(f.get("name").asText(), f.path("description").asText(null), f.get("parameters"), false));
        }
        return out;
    }
}
