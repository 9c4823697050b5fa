package io.resident.grammar;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Schemas of the constrained-output tests, and their check by a JSON-schema validator (formats asserted). */
public final class Schemas {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Every enforced keyword at least once; every string, array and number is bounded, so that even a model that
     * never wants to close a string answers within a few hundred tokens.
     */
    public static final String EVERY_FEATURE = """
            {"type": "object", "additionalProperties": false,
             "$defs": {"point": {"type": "object", "properties": {"x": {"type": "integer", "minimum": -5, "maximum": 5},
                                                                  "y": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
                                 "required": ["x", "y"], "additionalProperties": false}},
             "properties": {
               "name": {"type": "string", "maxLength": 12},
               "code": {"type": "string", "pattern": "^[A-Z]{2}-\\\\d{2,3}$"},
               "age": {"type": "integer", "minimum": 18, "maximum": 99},
               "score": {"type": ["number", "null"], "minimum": 0.5, "maximum": 2.5},
               "color": {"enum": ["red", "green", "blue"]},
               "kind": {"const": "person"},
               "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
               "home": {"$ref": "#/$defs/point"},
               "either": {"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/point"}, {"type": "null"}]},
               "born": {"type": "string", "format": "date"},
               "nickname": {"type": "string", "maxLength": 4}
             },
             "required": ["name", "code", "age", "score", "color", "kind", "tags", "home", "either", "born"]}
            """;

    /** Required nested properties and unbounded strings and arrays: nothing here closes unless the budget makes it. */
    public static final String NESTED_REQUIRED = """
            {"type": "object", "properties": {
               "user": {"type": "object", "properties": {"name": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}}, "required": ["name", "tags"]},
               "id": {"type": "integer"}, "note": {"type": "string", "minLength": 3}},
             "required": ["user", "id", "note"]}""";

    private Schemas() {}

    public static JsonNode nestedRequired() {
        return read(NESTED_REQUIRED);
    }

    public static JsonNode everyFeature() {
        return read(EVERY_FEATURE);
    }

    public static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails unless {@code out} is one JSON value that {@code schema} accepts. */
    public static void assertValid(JsonNode schema, String out) {
        var config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        var validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema, config);
        var errors = validator.validate(read(out));
        assertTrue(errors.isEmpty(), out + " -> " + errors);
    }
}
