package io.resident.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Typed reads of config.json keys; a missing required key is a ModelLoadException naming it. */
record ConfigJson(JsonNode json) {

    int integer(String key) {
        JsonNode node = json.get(key);
        if (node == null || !node.canConvertToInt()) {
            throw new ModelLoadException("config.json has no integer \"" + key + "\"");
        }
        return node.asInt();
    }

    int integer(String key, int absent) {
        return valueOr(key, absent, JsonNode::asInt);
    }

    double number(String key, double absent) {
        return valueOr(key, absent, JsonNode::asDouble);
    }

    boolean flag(String key, boolean absent) {
        return valueOr(key, absent, JsonNode::asBoolean);
    }

    String text(String key, String absent) {
        return valueOr(key, absent, JsonNode::asText);
    }

    /** The key's value, or the default when the key is absent or null. */
    private <T> T valueOr(String key, T absent, Function<JsonNode, T> read) {
        JsonNode node = json.get(key);
        return node == null || node.isNull() ? absent : read.apply(node);
    }

    /** An id or a list of ids (eos_token_id takes both forms). */
    List<Integer> ids(String key) {
        JsonNode node = json.get(key);
        List<Integer> ids = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else if (node != null && node.canConvertToInt()) {
            ids.add(node.asInt());
        }
        return ids;
    }

    ConfigJson child(String key) {
        JsonNode node = json.get(key);
        return node == null || !node.isObject() ? null : new ConfigJson(node);
    }

    /** The checkpoint dtype: "dtype" (transformers 5) or "torch_dtype" (older). */
    String dtype() {
        return text("dtype", text("torch_dtype", "float32"));
    }
}
