package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.api.ApiException;
import io.resident.grammar.Grammar;
import io.resident.grammar.JsonSchema;
import io.resident.grammar.SchemaException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * response_format as OpenAI's API takes it: {"type": "text"}, {"type": "json_object"} or {"type": "json_schema",
 * "json_schema": {"name", "schema", "strict", "description"}}, turned into the grammar that holds the reply to it.
 * Compiled schemas are kept by their text, so repeated requests share a grammar and its cached token masks.
 */
final class ResponseFormats {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final int CACHED_SCHEMAS = 64;
    private static final Grammar JSON_OBJECT = Grammar.json(JsonSchema.anyObject());
    private static final Map<String, Grammar> SCHEMAS = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > CACHED_SCHEMAS;
        }
    });

    private ResponseFormats() {}

    /** The grammar the reply must follow; null for free text (no response_format, or type text). */
    static Grammar grammar(JsonNode format) {
        if (!Sampling.present(format)) {
            return null;
        }
        if (!format.isObject()) {
            throw ApiException.invalid("response_format",
                    "'response_format' must be an object: {\"type\": \"text\"}, {\"type\": \"json_object\"} or {\"type\": \"json_schema\", ...}");
        }
        JsonNode type = format.get("type");
        String name = type != null && type.isTextual() ? type.asText() : null;
        if (name == null || !(name.equals("text") || name.equals("json_object") || name.equals("json_schema"))) {
            throw ApiException.invalid("response_format.type", "'response_format.type' must be text, json_object or json_schema, was "
                    + (type == null ? "missing" : type.toString()));
        }
        return switch (name) {
            case "text" -> null;
            case "json_object" -> JSON_OBJECT;
            default -> jsonSchema(format.get("json_schema"));
        };
    }

    private static Grammar jsonSchema(JsonNode spec) {
        String at = "response_format.json_schema";
        if (spec == null || !spec.isObject()) {
            throw ApiException.invalid(at, "'" + at + "' is required with type json_schema: {\"name\": ..., \"schema\": {...}}");
        }
        JsonNode name = spec.get("name");
        if (name == null || !name.isTextual() || !NAME.matcher(name.asText()).matches()) {
            throw ApiException.invalid(at + ".name", "'" + at + ".name' must be 1 to 64 letters, digits, '_' or '-'");
        }
        JsonNode strict = spec.get("strict");
        if (Sampling.present(strict) && !strict.isBoolean()) {
            throw ApiException.invalid(at + ".strict", "'" + at + ".strict' must be a boolean");
        }
        JsonNode schema = spec.get("schema");
        if (schema == null || !schema.isObject()) {
            throw ApiException.invalid(at + ".schema", "'" + at + ".schema' must be a JSON schema object");
        }
        String key = schema.toString();
        Grammar cached = SCHEMAS.get(key);
        if (cached != null) {
            return cached;
        }
        try {
            Grammar grammar = Grammar.json(JsonSchema.compile(schema));
            SCHEMAS.put(key, grammar);
            return grammar;
        } catch (SchemaException e) {
            throw ApiException.invalid(at + ".schema", "'" + at + ".schema' cannot be enforced: " + e.getMessage());
        }
    }
}
