package io.resident.grammar;

import io.resident.grammar.Pos.Cont;
import io.resident.grammar.Pos.Lit;
import io.resident.grammar.Pos.Ws;
import java.util.ArrayList;
import java.util.List;

/** Where writing a JSON value of a compiled schema starts, and the continuations inside objects and arrays. */
final class Json {

    static final Text OPEN_OBJECT = new Text("{"), CLOSE_OBJECT = new Text("}"), OPEN_ARRAY = new Text("["),
            CLOSE_ARRAY = new Text("]"), COMMA = new Text(","), COLON = new Text(":"), QUOTE = new Text("\"");
    /** Any string; also the shape of other members' keys. */
    static final Value.Str ANY_STRING = new Value.Str(0, Integer.MAX_VALUE, null);

    private Json() {}

    /** The value starts here (no whitespace before it) and goes on with {@code then}. */
    static Pos start(Value value, Cont then) {
        return switch (value) {
            case Value.Any any -> start(AnyJson.UNION, then);
            case Value.Obj o -> Lit.of(OPEN_OBJECT, new ObjectOpened(o, then));
            case Value.Array a -> Lit.of(OPEN_ARRAY, new ArrayOpened(a, then));
            case Value.Str s -> Lit.of(QUOTE, new StringOpened(s, null, then));
            case Value.Num n -> Pos.Num.start(n, then);
            case Value.Literals l -> {
                List<Pos> options = new ArrayList<>();
                for (Text t : l.texts) {
                    options.add(Lit.of(t, then));
                }
                yield Pos.any(options);
            }
            case Value.Union u -> {
                List<Pos> options = new ArrayList<>();
                for (Value v : u.alternatives) {
                    options.add(start(v, then));
                }
                yield Pos.any(options);
            }
            case Value.Ref r -> start(r.target, then);
        };
    }

    /** The schemas an empty schema allows, each with empty schemas inside. */
    private static final class AnyJson {
        static final Value.Union UNION = new Value.Union(List.of(
                new Value.Obj(List.of(), List.of(), List.of(), new boolean[0], Value.Any.INSTANCE),
                new Value.Array(Value.Any.INSTANCE, 0, Integer.MAX_VALUE),
                ANY_STRING,
                new Value.Num(false, null, false, null, false),
                new Value.Literals(List.of(new Text("true"), new Text("false"), new Text("null")))));
    }

    record StringOpened(Value.Str node, Value.Obj keyOf, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Pos.Str.open(node, keyOf, then);
        }
    }

    record ObjectOpened(Value.Obj node, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(keyOrClose(node, 0, true, then));
        }
    }

    /** A key of the members from {@code next} on, or the closing brace when allowed. */
    static Pos keyOrClose(Value.Obj node, int next, boolean first, Cont then) {
        List<Pos> options = new ArrayList<>();
        if (first && node.mayClose(next)) {
            options.add(Lit.of(CLOSE_OBJECT, then));
        }
        for (int i = next; i < node.names.size(); i++) {
            options.add(Lit.of(node.keys.get(i), new KeyWritten(node, i, then)));
            if (node.required[i]) {
                break;
            }
        }
        if (node.additional != null && node.mayClose(next)) {
            options.add(Lit.of(QUOTE, new StringOpened(ANY_STRING, node, new KeyWritten(node, -1, then))));
        }
        return Pos.any(options);
    }

    /** @param member the declared member's index, -1 for another key */
    record KeyWritten(Value.Obj node, int member, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Lit.of(COLON, new ColonWritten(node, member, then)));
        }
    }

    record ColonWritten(Value.Obj node, int member, Cont then) implements Cont {
        @Override
        public Pos resume() {
            Value value = member < 0 ? node.additional : node.values.get(member);
            int next = member < 0 ? node.names.size() : member + 1;
            return Ws.before(start(value, new MemberWritten(node, next, then)));
        }
    }

    record MemberWritten(Value.Obj node, int next, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Pos.any(
                    node.mayContinue(next) ? Lit.of(COMMA, new CommaWritten(node, next, then)) : null,
                    node.mayClose(next) ? Lit.of(CLOSE_OBJECT, then) : null));
        }
    }

    record CommaWritten(Value.Obj node, int next, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(keyOrClose(node, next, false, then));
        }
    }

    record ArrayOpened(Value.Array node, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Pos.any(
                    node.minItems == 0 ? Lit.of(CLOSE_ARRAY, then) : null,
                    node.maxItems > 0 ? start(node.items, new ItemWritten(node,
                            node.maxItems == Integer.MAX_VALUE ? Math.min(1, node.minItems) : 1, then)) : null));
        }
    }

    record ItemWritten(Value.Array node, int count, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Pos.any(
                    count < node.maxItems ? Lit.of(COMMA, new ItemComma(node, count, then)) : null,
                    count >= node.minItems ? Lit.of(CLOSE_ARRAY, then) : null));
        }
    }

    record ItemComma(Value.Array node, int count, Cont then) implements Cont {
        @Override
        public Pos resume() {
            // without a maximum the count matters only up to the minimum: positions then repeat, and so do their masks
            int counted = node.maxItems == Integer.MAX_VALUE ? Math.min(count + 1, node.minItems) : count + 1;
            return Ws.before(start(node.items, new ItemWritten(node, counted, then)));
        }
    }
}
