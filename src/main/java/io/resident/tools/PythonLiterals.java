package io.resident.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;

/**
 * ChatGLM3's calls are Python code: the keyword arguments of a call read back into JSON (strings, numbers,
 * True/False/None, lists, tuples, dicts), as the reference's eval of tool_call(**kwargs) reads them.
 */
public final class PythonLiterals {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private PythonLiterals() {}

    /** The keyword arguments "k=v, ..." of a call as a JSON object; anything else is an IllegalArgumentException. */
    public static ObjectNode keywordArguments(String text) {
        Reader reader = new Reader(text);
        ObjectNode arguments = NODES.objectNode();
        reader.space();
        while (!reader.atEnd()) {
            String key = reader.identifier();
            reader.expect('=');
            arguments.set(key, reader.value());
            if (!reader.comma()) {
                break;
            }
        }
        reader.space();
        if (!reader.atEnd()) {
            throw reader.error("expected ',' or the end");
        }
        return arguments;
    }

    private static final class Reader {
        private final String s;
        private int at;

        Reader(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return at >= s.length();
        }

        void space() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
                at++;
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at " + at + " of: " + s);
        }

        void expect(char c) {
            space();
            if (atEnd() || s.charAt(at) != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        /** Skips a ',' and reports whether one was there (a trailing one included). */
        boolean comma() {
            space();
            if (!atEnd() && s.charAt(at) == ',') {
                at++;
                space();
                return true;
            }
            return false;
        }

        String identifier() {
            space();
            int start = at;
            while (at < s.length() && (Character.isLetterOrDigit(s.charAt(at)) || s.charAt(at) == '_')) {
                at++;
            }
            if (start == at) {
                throw error("expected a name");
            }
            return s.substring(start, at);
        }

        JsonNode value() {
            space();
            if (atEnd()) {
                throw error("expected a value");
            }
            char c = s.charAt(at);
            return switch (c) {
                case '\'', '"' -> NODES.textNode(string());
                case '[' -> sequence(']');
                case '(' -> sequence(')');
                case '{' -> dict();
                default -> Character.isLetter(c) ? constant() : number();
            };
        }

        private ArrayNode sequence(char end) {
            at++;
            ArrayNode items = NODES.arrayNode();
            space();
            while (!atEnd() && s.charAt(at) != end) {
                items.add(value());
                if (!comma()) {
                    break;
                }
            }
            expect(end);
            return items;
        }

        private ObjectNode dict() {
            at++;
            ObjectNode object = NODES.objectNode();
            space();
            while (!atEnd() && s.charAt(at) != '}') {
                JsonNode key = value();
                if (!key.isTextual()) {
                    throw error("a dict key that is not a string");
                }
                expect(':');
                object.set(key.asText(), value());
                if (!comma()) {
                    break;
                }
            }
            expect('}');
            return object;
        }

        private JsonNode constant() {
            String word = identifier();
            return switch (word) {
                case "True" -> NODES.booleanNode(true);
                case "False" -> NODES.booleanNode(false);
                case "None" -> NODES.nullNode();
                default -> throw error("'" + word + "' is not a literal");
            };
        }

        private JsonNode number() {
            int start = at;
            while (at < s.length() && "+-0123456789.eE_".indexOf(s.charAt(at)) >= 0) {
                at++;
            }
            String text = s.substring(start, at).replace("_", "");
            try {
                return text.matches("[+-]?\\d+") ? NODES.numberNode(new BigInteger(text)) : NODES.numberNode(Double.parseDouble(text));
            } catch (NumberFormatException e) {
                throw error("expected a value");
            }
        }

        private String string() {
            char quote = s.charAt(at++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (atEnd()) {
                    throw error("an unclosed string");
                }
                char c = s.charAt(at++);
                if (c == quote) {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (atEnd()) {
                    throw error("an unclosed string");
                }
                char e = s.charAt(at++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case '0' -> sb.append('\0');
                    case 'x' -> sb.append(hex(2));
                    case 'u' -> sb.append(hex(4));
                    case 'U' -> sb.appendCodePoint(Integer.parseInt(hexDigits(8), 16));
                    case '\n' -> { } // a continued line
                    case '\\', '\'', '"' -> sb.append(e);
                    default -> sb.append('\\').append(e); // Python keeps an unknown escape as written
                }
            }
        }

        private char hex(int digits) {
            return (char) Integer.parseInt(hexDigits(digits), 16);
        }

        private String hexDigits(int digits) {
            if (at + digits > s.length()) {
                throw error("a short escape");
            }
            String h = s.substring(at, at + digits);
            at += digits;
            if (!h.matches("[0-9a-fA-F]+")) {
                throw error("a bad escape");
            }
            return h;
        }
    }
}
