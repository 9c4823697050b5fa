package io.resident.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** The JSON bodies of tool calls: {"name": ..., "arguments" or "parameters": {...}}, alone, in a list or separated by ';'. */
final class CallJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CallJson() {}

    /** One call object; null when the text is not one. */
    static List<ToolCallParser.Call> one(String text) {
        ToolCallParser.Call call = call(read(text));
        return call == null ? null : List.of(call);
    }

    /** A JSON array of call objects, or one call object (Mistral). */
    static List<ToolCallParser.Call> list(String text) {
        JsonNode node = read(text);
        return node != null && node.isArray() ? all(node) : one(text);
    }

    /** Call objects separated by ';' (Llama 3.1's several calls), or one. */
    static List<ToolCallParser.Call> separated(String text) {
        List<ToolCallParser.Call> calls = new ArrayList<>();
        for (String part : topLevelParts(text)) {
            ToolCallParser.Call call = call(read(part));
            if (call == null) {
                return null;
            }
            calls.add(call);
        }
        return calls.isEmpty() ? null : calls;
    }

    private static List<ToolCallParser.Call> all(JsonNode array) {
        List<ToolCallParser.Call> calls = new ArrayList<>();
        for (JsonNode item : array) {
            ToolCallParser.Call call = call(item);
            if (call == null) {
                return null;
            }
            calls.add(call);
        }
        return calls.isEmpty() ? null : calls;
    }

    private static ToolCallParser.Call call(JsonNode node) {
        if (node == null || !node.isObject() || !node.path("name").isTextual()) {
            return null;
        }
        JsonNode arguments = node.has("arguments") ? node.get("arguments") : node.get("parameters");
        if (arguments != null && arguments.isTextual()) {
            arguments = read(arguments.asText()); // a model may write the arguments as a JSON string
        }
        if (arguments == null || arguments.isNull()) {
            arguments = JSON.createObjectNode();
        }
        return arguments.isObject() ? new ToolCallParser.Call(node.get("name").asText(), arguments.toString()) : null;
    }

    private static JsonNode read(String text) {
        try {
            String trimmed = text.strip();
            return trimmed.isEmpty() ? null : JSON.readTree(trimmed);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The text split at ';' outside strings, brackets and braces. */
    private static List<String> topLevelParts(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ';' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(text.substring(start));
        return parts.stream().filter(p -> !p.isBlank()).toList();
    }
}
