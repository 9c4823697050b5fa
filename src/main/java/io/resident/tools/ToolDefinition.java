package io.resident.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A function the model may call.
 *
 * @param name        what a call names
 * @param description what it does, for the model (null when not given)
 * @param parameters  the JSON schema of its arguments (null: none)
 * @param strict      whether the arguments must match the schema exactly
 */
public record ToolDefinition(String name, String description, JsonNode parameters, boolean strict) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The function object as chat templates and ChatGLM3's system prompt list it: name, description, parameters. */
    public Map<String, Object> function() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        if (description != null) {
            function.put("description", description);
        }
        if (parameters != null) {
            function.put("parameters", JSON.convertValue(parameters, Object.class));
        }
        return function;
    }

    /** The tool as apply_chat_template(tools=...) takes it: {"type": "function", "function": {...}}. */
    public Map<String, Object> templateValue() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function());
        return tool;
    }
}
