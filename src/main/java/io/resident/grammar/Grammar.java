package io.resident.grammar;

import io.resident.grammar.Pos.Cont;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a constrained output must be, built from literal texts and JSON values of a schema: a response_format's JSON
 * value, or a tool call such as {@code sequence(literal("<tool_call>\n{\"name\": \"f\", \"arguments\": "),
 * json(parameters), literal("}\n</tool_call>"))}, or a {@link #choice} of one such per tool. Immutable and
 * thread-safe; build it once per request (or cache it per schema) and hand it to
 * {@code SamplingParams.Builder.grammar}. The output ends where the grammar ends (a closing brace, the last literal).
 */
public abstract sealed class Grammar {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private Grammar() {}

    /** Exactly this text. */
    public static Grammar literal(String text) {
        return new Literal(new Text(text));
    }

    /** One JSON value the schema accepts, written compactly or with a little whitespace between its tokens. */
    public static Grammar json(JsonSchema schema) {
        return new JsonValue(schema.value);
    }

    /**
     * Python keyword arguments {@code k=v, } of an object schema's declared properties (compiled with
     * {@link JsonSchema#compilePython}), in their order: every required one, any optional one; other keys are left out.
     *
     * @throws SchemaException a schema that is not one object, or a property name that is no Python identifier
     */
    public static Grammar keywordArguments(JsonSchema schema) {
        Value root = schema.value;
        while (root instanceof Value.Ref r) {
            root = r.target;
        }
        if (!(root instanceof Value.Obj object)) {
            throw new SchemaException("type", "", "the parameters must be one object schema to be written as keyword arguments");
        }
        List<Grammar> parts = new ArrayList<>();
        for (int i = 0; i < object.names.size(); i++) {
            String name = object.names.get(i);
            if (!IDENTIFIER.matcher(name).matches()) {
                throw new SchemaException("properties", "/properties/" + name, "the property '" + name
                        + "' is no Python identifier, so it cannot be a keyword argument");
            }
            Grammar member = sequence(literal(name + "="), new JsonValue(object.values.get(i)), literal(", "));
            parts.add(object.required[i] ? member : choice(member, literal("")));
        }
        return parts.isEmpty() ? literal("") : sequence(parts);
    }

    /** These parts one after the other. */
    public static Grammar sequence(Grammar... parts) {
        return sequence(List.of(parts));
    }

    public static Grammar sequence(List<Grammar> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a sequence needs at least one part");
        }
        return parts.size() == 1 ? parts.getFirst() : new Sequence(List.copyOf(parts));
    }

    /** Any one of these alternatives. */
    public static Grammar choice(Grammar... alternatives) {
        return choice(List.of(alternatives));
    }

    public static Grammar choice(List<Grammar> alternatives) {
        if (alternatives.isEmpty()) {
            throw new IllegalArgumentException("a choice needs at least one alternative");
        }
        return alternatives.size() == 1 ? alternatives.getFirst() : new Choice(List.copyOf(alternatives));
    }

    /** {@code item} min to max times in a row, with {@code separator} between two (several tool calls in one turn). */
    public static Grammar repeat(Grammar item, Grammar separator, int min, int max) {
        if (min < 1 || max < min) {
            throw new IllegalArgumentException("repeat needs 1 <= min <= max, was " + min + ", " + max);
        }
        List<Grammar> parts = new ArrayList<>();
        parts.add(item);
        Grammar rest = null;
        for (int i = max; i > 1; i--) {
            Grammar one = rest == null ? sequence(separator, item) : sequence(separator, item, rest);
            rest = i - 1 < min ? one : choice(one, literal(""));
        }
        if (rest != null) {
            parts.add(rest);
        }
        return sequence(parts);
    }

    /** The position before the first byte. */
    final Pos start() {
        return start(Pos.End.INSTANCE);
    }

    abstract Pos start(Cont then);

    /** The fewest bytes of an output of this grammar. */
    abstract int shortest();

    private static final class Literal extends Grammar {
        private final Text text;

        Literal(Text text) {
            this.text = text;
        }

        @Override
        Pos start(Cont then) {
            return Pos.Lit.of(text, then);
        }

        @Override
        int shortest() {
            return text.bytes.length;
        }
    }

    private static final class JsonValue extends Grammar {
        private final Value value;

        JsonValue(Value value) {
            this.value = value;
        }

        @Override
        Pos start(Cont then) {
            return Json.start(value, then);
        }

        @Override
        int shortest() {
            return Shortest.of(value);
        }
    }

    private static final class Sequence extends Grammar {
        private final List<Grammar> parts;

        Sequence(List<Grammar> parts) {
            this.parts = parts;
        }

        @Override
        Pos start(Cont then) {
            return new Rest(this, 0, then).resume();
        }

        @Override
        int shortest() {
            return new Rest(this, 0, Pos.End.INSTANCE).shortest();
        }
    }

    /** The parts of a sequence from {@code next} on. */
    private record Rest(Sequence sequence, int next, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return next == sequence.parts.size() ? then.resume()
                    : sequence.parts.get(next).start(new Rest(sequence, next + 1, then));
        }

        @Override
        public int shortest() {
            int n = then.shortest();
            for (int i = next; i < sequence.parts.size(); i++) {
                n = Shortest.add(n, sequence.parts.get(i).shortest());
            }
            return n;
        }
    }

    private static final class Choice extends Grammar {
        private final List<Grammar> alternatives;

        Choice(List<Grammar> alternatives) {
            this.alternatives = alternatives;
        }

        @Override
        Pos start(Cont then) {
            List<Pos> starts = new ArrayList<>();
            for (Grammar g : alternatives) {
                starts.add(g.start(then));
            }
            return Pos.any(starts);
        }

        @Override
        int shortest() {
            return alternatives.stream().mapToInt(Grammar::shortest).min().orElse(Shortest.NONE);
        }
    }
}
