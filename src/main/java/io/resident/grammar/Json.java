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

        @Override
        public int shortest() {
            return resume().shortest();
        }
    }

    record ObjectOpened(Value.Obj node, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(keyOrClose(node, 0, true, then));
        }

        @Override
        public int shortest() {
            int members = Shortest.afterMember(node, 0);
            return Shortest.add(node.mayClose(0) ? 1 : members - 1, then.shortest());
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

        @Override
        public int shortest() {
            return Shortest.add(1, new ColonWritten(node, member, then).shortest());
        }
    }

    record ColonWritten(Value.Obj node, int member, Cont then) implements Cont {
        @Override
        public Pos resume() {
            Value value = member < 0 ? node.additional : node.values.get(member);
            int next = member < 0 ? node.names.size() : member + 1;
            return Ws.before(start(value, new MemberWritten(node, next, then)));
        }

        @Override
        public int shortest() {
            Value value = member < 0 ? node.additional : node.values.get(member);
            int next = member < 0 ? node.names.size() : member + 1;
            return Shortest.add(Shortest.of(value), new MemberWritten(node, next, then).shortest());
        }
    }

    record MemberWritten(Value.Obj node, int next, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Pos.any(
                    node.mayContinue(next) ? Lit.of(COMMA, new CommaWritten(node, next, then)) : null,
                    node.mayClose(next) ? Lit.of(CLOSE_OBJECT, then) : null));
        }

        @Override
        public int shortest() {
            return Shortest.add(Shortest.afterMember(node, next), then.shortest());
        }
    }

    record CommaWritten(Value.Obj node, int next, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(keyOrClose(node, next, false, then));
        }

        /** One more member: a declared one up to the first required, or another key where allowed. */
        @Override
        public int shortest() {
            int best = Shortest.NONE;
            for (int i = next; i < node.names.size(); i++) {
                best = Math.min(best, Shortest.add(Shortest.member(node, i), Shortest.afterMember(node, i + 1)));
                if (node.required[i]) {
                    break;
                }
            }
            if (node.additional != null && node.mayClose(next)) {
                best = Math.min(best, Shortest.add(Shortest.otherKey(node) + 1 + 1, Shortest.of(node.additional)));
            }
            return Shortest.add(best, then.shortest());
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

        @Override
        public int shortest() {
            return node.minItems == 0 ? Shortest.add(1, then.shortest())
                    : Shortest.add(Shortest.of(node.items), new ItemWritten(node, 1, then).shortest());
        }
    }

    record ItemWritten(Value.Array node, int count, Cont then) implements Cont {
        @Override
        public Pos resume() {
            return Ws.before(Pos.any(
                    count < node.maxItems ? Lit.of(COMMA, new ItemComma(node, count, then)) : null,
                    count >= node.minItems ? Lit.of(CLOSE_ARRAY, then) : null));
        }

        @Override
        public int shortest() {
            long missing = Math.max(0, node.minItems - count);
            int items = (int) Math.min(Shortest.NONE, missing * (1 + Shortest.of(node.items)));
            return Shortest.add(Shortest.add(items, 1), then.shortest());
        }
    }

    record ItemComma(Value.Array node, int count, Cont then) implements Cont {
        @Override
        public Pos resume() {
            // without a maximum the count matters only up to the minimum: positions then repeat, and so do their masks
            int counted = node.maxItems == Integer.MAX_VALUE ? Math.min(count + 1, node.minItems) : count + 1;
            return Ws.before(start(node.items, new ItemWritten(node, counted, then)));
        }

        @Override
        public int shortest() {
            return Shortest.add(Shortest.of(node.items), new ItemWritten(node, count + 1, then).shortest());
        }
    }
}
