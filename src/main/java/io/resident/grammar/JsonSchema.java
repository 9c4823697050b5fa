package io.resident.grammar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema compiled for enforcement while decoding. Enforced: type (a name or an array of names, "null"
 * included), properties, required, additionalProperties (false, true or a schema), items, minItems, maxItems, enum,
 * const, anyOf, a one-schema allOf, $ref to "#", "#/$defs/..." or "#/definitions/...", minLength, maxLength,
 * pattern, format (date, time, date-time, uuid), minimum, maximum, exclusiveMinimum, exclusiveMaximum.
 * Annotations (title, description, default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly) are
 * ignored; any other keyword is refused with a {@link SchemaException} naming it, so nothing is silently loosened.
 * Objects are written with their declared properties in declared order, then any others the schema allows.
 */
public final class JsonSchema {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly");
    private static final Set<String> ENFORCED = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "enum", "const", "anyOf", "allOf", "$ref", "$defs", "definitions", "minLength",
            "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    /** Formats written by a pattern that accepts only valid values (days up to 28, so every month has them). */
    private static final Map<String, String> FORMATS = Map.of(
            "date", "^" + Formats.DATE + "$",
            "time", "^" + Formats.TIME + "$",
            "date-time", "^" + Formats.DATE + "T" + Formats.TIME + "$",
            "uuid", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    /** Numeric formats of OpenAPI-style generators: annotations for a JSON number. */
    private static final Set<String> NUMBER_FORMATS = Set.of("int32", "int64", "float", "double");

    /** Any Python literal of a JSON value, with the same inside its dicts and lists. */
    private static final Value PYTHON_ANY = pythonAny();

    final Value value;

    private JsonSchema(Value value) {
        this.value = value;
    }

    /** Any JSON object (response_format json_object). */
    public static JsonSchema anyObject() {
        return new JsonSchema(new Value.Obj(List.of(), List.of(), List.of(), new boolean[0], Value.Any.INSTANCE));
    }

    /**
     * @throws SchemaException a keyword that cannot be enforced, or a value of a keyword that is not usable
     */
    public static JsonSchema compile(JsonNode schema) {
        return compile(schema, false);
    }

    /**
     * The schema's values as Python literals: JSON's spelling but True, False and None (ChatGLM3's calls are Python).
     *
     * @throws SchemaException as {@link #compile(JsonNode)}
     */
    public static JsonSchema compilePython(JsonNode schema) {
        return compile(schema, true);
    }

    private static JsonSchema compile(JsonNode schema, boolean python) {
        Compiler compiler = new Compiler(schema, python);
        Value root = compiler.compile(schema, "");
        compiler.resolve();
        return new JsonSchema(root);
    }

    private static Value pythonAny() {
        Value.Ref self = new Value.Ref();
        self.target = new Value.Union(List.of(
                new Value.Obj(List.of(), List.of(), List.of(), new boolean[0], self),
                new Value.Array(self, 0, Integer.MAX_VALUE),
                Json.ANY_STRING,
                new Value.Num(false, null, false, null, false),
                new Value.Literals(List.of(new Text("True"), new Text("False"), new Text("None")))));
        return self.target;
    }

    private static final class Formats {
        static final String DATE = "\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])";
        static final String TIME = "([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)";
    }

    private static final class Compiler {
        private final JsonNode root;
        private final boolean python;
        private final Map<String, Value.Ref> refs = new HashMap<>();

        Compiler(JsonNode root, boolean python) {
            this.root = root;
            this.python = python;
        }

        /** Any value: a JSON one, or a Python literal of one. */
        private Value any() {
            return python ? PYTHON_ANY : Value.Any.INSTANCE;
        }

        private Text literal(JsonNode v) {
            return new Text(python ? pythonLiteral(v) : compact(v));
        }

        Value compile(JsonNode s, String at) {
            if (s.isBoolean()) {
                if (!s.asBoolean()) {
                    throw new SchemaException("false", at, "the schema at '" + pointer(at) + "' is false: no value matches it");
                }
                return any();
            }
            if (!s.isObject()) {
                throw new SchemaException(null, at, "the schema at '" + pointer(at) + "' must be an object");
            }
            s.fieldNames().forEachRemaining(k -> {
                if (!ENFORCED.contains(k) && !ANNOTATIONS.contains(k)) {
                    throw new SchemaException(k, at + "/" + k, "'" + k + "' (at '" + pointer(at + "/" + k)
                            + "') is not supported: resident cannot enforce it while decoding");
                }
            });
            if (s.has("$ref")) {
                return ref(s.get("$ref"), at + "/$ref");
            }
            if (s.has("allOf")) {
                JsonNode all = s.get("allOf");
                if (!all.isArray() || all.size() != 1) {
                    throw new SchemaException("allOf", at + "/allOf", "'allOf' (at '" + pointer(at + "/allOf")
                            + "') is supported with one schema only");
                }
                return compile(all.get(0), at + "/allOf/0");
            }
            if (s.has("anyOf")) {
                JsonNode any = s.get("anyOf");
                if (!any.isArray() || any.isEmpty()) {
                    throw invalid("anyOf", at, "a non-empty array of schemas");
                }
                List<Value> options = new ArrayList<>();
                for (int i = 0; i < any.size(); i++) {
                    options.add(compile(any.get(i), at + "/anyOf/" + i));
                }
                return options.size() == 1 ? options.getFirst() : new Value.Union(options);
            }
            Set<String> types = types(s, at);
            if (s.has("const") || s.has("enum")) {
                return literals(s, types, at);
            }
            List<Value> options = new ArrayList<>();
            for (String type : types) {
                options.add(typed(s, type, at));
            }
            return options.size() == 1 ? options.getFirst() : new Value.Union(options);
        }

        /** The types the schema names, or those its keywords imply, or all of them. */
        private Set<String> types(JsonNode s, String at) {
            JsonNode type = s.get("type");
            Set<String> types = new LinkedHashSet<>();
            if (type == null) {
                if (s.has("properties") || s.has("additionalProperties") || s.has("required")) {
                    types.add("object");
                } else if (s.has("items") || s.has("minItems") || s.has("maxItems")) {
                    types.add("array");
                } else if (s.has("pattern") || s.has("minLength") || s.has("maxLength") || s.has("format")) {
                    types.add("string");
                } else if (s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum") || s.has("exclusiveMaximum")) {
                    types.add("number");
                } else {
                    types.addAll(List.of("object", "array", "string", "number", "boolean", "null"));
                }
                return types;
            }
            for (JsonNode t : type.isArray() ? type : List.of(type)) {
                if (!t.isTextual() || !TYPES.contains(t.asText())) {
                    throw invalid("type", at, "one of " + TYPES + " or an array of them");
                }
                types.add(t.asText());
            }
            if (types.isEmpty()) {
                throw invalid("type", at, "one of " + TYPES + " or an array of them");
            }
            if (types.contains("number")) {
                types.remove("integer");
            }
            return types;
        }

        private Value typed(JsonNode s, String type, String at) {
            return switch (type) {
                case "object" -> object(s, at);
                case "array" -> array(s, at);
                case "string" -> string(s, at);
                case "number", "integer" -> number(s, type.equals("integer"), at);
                case "boolean" -> new Value.Literals(List.of(literal(BooleanNode.TRUE), literal(BooleanNode.FALSE)));
                default -> new Value.Literals(List.of(literal(NullNode.instance)));
            };
        }

        private Value object(JsonNode s, String at) {
            JsonNode properties = s.path("properties");
            if (s.has("properties") && !properties.isObject()) {
                throw invalid("properties", at, "an object of schemas");
            }
            Set<String> required = new LinkedHashSet<>();
            if (s.has("required")) {
                if (!s.get("required").isArray()) {
                    throw invalid("required", at, "an array of property names");
                }
                for (JsonNode r : s.get("required")) {
                    if (!r.isTextual()) {
                        throw invalid("required", at, "an array of property names");
                    }
                    required.add(r.asText());
                }
            }
            List<String> names = new ArrayList<>();
            List<Text> keys = new ArrayList<>();
            List<Value> values = new ArrayList<>();
            properties.fieldNames().forEachRemaining(name -> {
                names.add(name);
                keys.add(new Text(quoted(name)));
                values.add(compile(properties.get(name), at + "/properties/" + escape(name)));
            });
            for (String r : required) {
                if (!names.contains(r)) {
                    throw new SchemaException("required", at + "/required", "'required' (at '" + pointer(at + "/required")
                            + "') names '" + r + "', which is not among the properties: resident writes declared properties only");
                }
            }
            boolean[] isRequired = new boolean[names.size()];
            for (int i = 0; i < names.size(); i++) {
                isRequired[i] = required.contains(names.get(i));
            }
            JsonNode extra = s.get("additionalProperties");
            Value additional = extra == null ? any()
                    : extra.isBoolean() ? (extra.asBoolean() ? any() : null)
                    : compile(extra, at + "/additionalProperties");
            return new Value.Obj(List.copyOf(names), List.copyOf(keys), List.copyOf(values), isRequired, additional);
        }

        private Value array(JsonNode s, String at) {
            Value items = s.has("items") ? compile(s.get("items"), at + "/items") : any();
            int min = count(s, "minItems", 0, at);
            int max = count(s, "maxItems", Integer.MAX_VALUE, at);
            if (min > max) {
                throw invalid("minItems", at, "at most maxItems (" + max + ")");
            }
            return new Value.Array(items, min, max);
        }

        private Value string(JsonNode s, String at) {
            int min = count(s, "minLength", 0, at);
            int max = count(s, "maxLength", Integer.MAX_VALUE, at);
            if (min > max) {
                throw invalid("minLength", at, "at most maxLength (" + max + ")");
            }
            if (s.has("pattern") && s.has("format")) {
                throw new SchemaException("format", at + "/format", "'format' with 'pattern' (at '" + pointer(at)
                        + "') is not supported");
            }
            String source = null;
            String keyword = "pattern";
            if (s.has("pattern")) {
                if (!s.get("pattern").isTextual()) {
                    throw invalid("pattern", at, "a regular expression string");
                }
                source = s.get("pattern").asText();
            } else if (s.has("format")) {
                keyword = "format";
                source = FORMATS.get(s.get("format").asText());
                if (source == null) {
                    throw new SchemaException("format", at + "/format", "'format' \"" + s.get("format").asText()
                            + "\" (at '" + pointer(at + "/format") + "') is not supported; supported: " + FORMATS.keySet());
                }
            }
            Regex pattern = null;
            if (source != null) {
                try {
                    pattern = Regex.compile(source);
                } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                    throw new SchemaException(keyword, at + "/" + keyword, "'" + keyword + "' (at '" + pointer(at + "/" + keyword)
                            + "') is not supported: " + e.getMessage());
                }
                if (pattern.remaining(pattern.startSet()) > max) {
                    throw invalid("pattern", at, "a pattern some string of at most maxLength (" + max + ") characters matches");
                }
            }
            return new Value.Str(min, max, pattern);
        }

        private Value number(JsonNode s, boolean integer, String at) {
            if (s.has("format") && !NUMBER_FORMATS.contains(s.get("format").asText())) {
                throw new SchemaException("format", at + "/format", "'format' \"" + s.get("format").asText()
                        + "\" (at '" + pointer(at + "/format") + "') is not supported for numbers");
            }
            BigDecimal min = bound(s, "minimum", at), max = bound(s, "maximum", at);
            BigDecimal exclusiveMin = bound(s, "exclusiveMinimum", at), exclusiveMax = bound(s, "exclusiveMaximum", at);
            boolean minExclusive = exclusiveMin != null && (min == null || exclusiveMin.compareTo(min) >= 0);
            boolean maxExclusive = exclusiveMax != null && (max == null || exclusiveMax.compareTo(max) <= 0);
            Value.Num num = new Value.Num(integer, minExclusive ? exclusiveMin : min, minExclusive,
                    maxExclusive ? exclusiveMax : max, maxExclusive);
            if (Pos.Num.start(num, Pos.End.INSTANCE) instanceof Pos.Num start && !Numbers.satisfiable(start)) {
                throw invalid("minimum", at, "a range some " + (integer ? "integer" : "number") + " of at most "
                        + Numbers.MAX_INT_DIGITS + " digits lies in");
            }
            return num;
        }

        private Value literals(JsonNode s, Set<String> types, String at) {
            List<JsonNode> values = new ArrayList<>();
            if (s.has("const")) {
                values.add(s.get("const"));
            } else if (s.get("enum").isArray()) {
                s.get("enum").forEach(values::add);
            } else {
                throw invalid("enum", at, "an array of values");
            }
            List<Text> texts = new ArrayList<>();
            for (JsonNode v : values) {
                if (!s.has("type") || types.contains(typeOf(v)) || (typeOf(v).equals("integer") && types.contains("number"))) {
                    texts.add(literal(v));
                }
            }
            if (texts.isEmpty()) {
                throw invalid(s.has("const") ? "const" : "enum", at, "a value of the schema's type");
            }
            return new Value.Literals(texts);
        }

        private Value ref(JsonNode ref, String at) {
            if (!ref.isTextual()) {
                throw invalid("$ref", at, "a string");
            }
            return refs.computeIfAbsent(ref.asText(), r -> new Value.Ref());
        }

        /** Compiles what each $ref names (and the refs those reach) once every schema is known. */
        void resolve() {
            Set<String> done = new LinkedHashSet<>();
            boolean more = true;
            while (more) {
                more = false;
                for (Map.Entry<String, Value.Ref> e : List.copyOf(refs.entrySet())) {
                    if (done.add(e.getKey())) {
                        more = true;
                        String r = e.getKey();
                        if (!r.equals("#") && !r.startsWith("#/")) {
                            throw new SchemaException("$ref", "", "'$ref' \"" + r + "\" is not supported: only local references (\"#/$defs/...\")");
                        }
                        JsonNode target = root.at(r.substring(1));
                        if (target.isMissingNode()) {
                            throw new SchemaException("$ref", "", "'$ref' \"" + r + "\" names no schema in the document");
                        }
                        e.getValue().target = compile(target, r.substring(1));
                    }
                }
            }
            for (Value.Ref ref : refs.values()) {
                Value target = ref.target;
                for (int hops = 0; target instanceof Value.Ref next; hops++) {
                    if (hops > refs.size()) {
                        throw new SchemaException("$ref", "", "'$ref' chains that lead only to themselves name no value");
                    }
                    target = next.target;
                }
            }
        }

        private static int count(JsonNode s, String keyword, int absent, String at) {
            JsonNode n = s.get(keyword);
            if (n == null) {
                return absent;
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble())) || n.asInt() < 0) {
                throw invalid(keyword, at, "a non-negative integer");
            }
            return n.asInt();
        }

        private static BigDecimal bound(JsonNode s, String keyword, String at) {
            JsonNode n = s.get(keyword);
            if (n == null) {
                return null;
            }
            if (!n.isNumber()) {
                throw invalid(keyword, at, "a number");
            }
            return n.decimalValue();
        }

        private static SchemaException invalid(String keyword, String at, String expected) {
            return new SchemaException(keyword, at + "/" + keyword, "'" + keyword + "' (at '" + pointer(at + "/" + keyword)
                    + "') must be " + expected);
        }

        private static String typeOf(JsonNode v) {
            return switch (v.getNodeType()) {
                case OBJECT -> "object";
                case ARRAY -> "array";
                case STRING -> "string";
                case NUMBER -> v.isIntegralNumber() || v.decimalValue().stripTrailingZeros().scale() <= 0 ? "integer" : "number";
                case BOOLEAN -> "boolean";
                default -> "null";
            };
        }
    }

    private static String pointer(String at) {
        return at.isEmpty() ? "/" : at;
    }

    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    private static String quoted(String name) {
        try {
            return JSON.writeValueAsString(name);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON value as Python writes the same value: True, False and None; strings and numbers as JSON has them. */
    private static String pythonLiteral(JsonNode v) {
        if (v.isBoolean()) {
            return v.asBoolean() ? "True" : "False";
        }
        if (v.isNull()) {
            return "None";
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(item -> items.add(pythonLiteral(item)));
            return "[" + String.join(",", items) + "]";
        }
        if (v.isObject()) {
            List<String> members = new ArrayList<>();
            v.properties().forEach(e -> members.add(quoted(e.getKey()) + ":" + pythonLiteral(e.getValue())));
            return "{" + String.join(",", members) + "}";
        }
        return compact(v);
    }

    private static String compact(JsonNode v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
