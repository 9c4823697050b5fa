package io.resident.grammar;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The fewest bytes that write a value of a compiled schema: what lets a constrained output close within its token
 * budget. Measured once per value (a fixed point, since schemas may be recursive through $ref) and kept while the
 * value lives.
 */
final class Shortest {

    /** Stands for "no finite value"; far from overflowing when added to. */
    static final int NONE = Integer.MAX_VALUE / 4;
    private static final Map<Value, Integer> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private Shortest() {}

    static int of(Value v) {
        if (v instanceof Value.Any) {
            return 1;
        }
        Integer known = KNOWN.get(v);
        if (known != null) {
            return known;
        }
        Map<Value, Integer> table = new IdentityHashMap<>();
        Pass pass;
        int n;
        do {
            pass = new Pass(table);
            n = pass.measure(v); // not table.get(v): another thread may have measured v meanwhile, and then it is not in table
        } while (pass.changed);
        KNOWN.putAll(table);
        return n;
    }

    static int add(int a, int b) {
        return Math.min(NONE, a + b);
    }

    /** After a member of {@code node} (before the members from {@code next} on): each required one, then the brace. */
    static int afterMember(Value.Obj node, int next) {
        int n = 1;
        for (int i = next; i < node.names.size(); i++) {
            if (node.required[i]) {
                n = add(n, 1 + member(node, i));
            }
        }
        return n;
    }

    /** A declared member written: its key, the colon and its shortest value. */
    static int member(Value.Obj node, int i) {
        return add(node.keys.get(i).bytes.length + 1, of(node.values.get(i)));
    }

    /** The shortest key of another member: "" unless declared. */
    static int otherKey(Value.Obj node) {
        return node.declared.contains("") ? 3 : 2;
    }

    /** One measuring pass over the values reachable from a root; repeated until nothing shrinks. */
    private static final class Pass {
        private final Map<Value, Integer> table;
        private final Set<Value> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        boolean changed;

        Pass(Map<Value, Integer> table) {
            this.table = table;
        }

        int measure(Value v) {
            if (v instanceof Value.Any) {
                return 1;
            }
            Integer known = KNOWN.get(v);
            if (known != null) {
                return known;
            }
            if (!seen.add(v)) { // in progress (a recursive schema) or measured in this pass
                return table.getOrDefault(v, NONE);
            }
            int n = switch (v) {
                case Value.Any any -> 1;
                case Value.Obj o -> {
                    int total = 2;
                    int required = 0;
                    for (int i = 0; i < o.names.size(); i++) {
                        if (o.required[i]) {
                            total = add(total, add(o.keys.get(i).bytes.length + 1, measure(o.values.get(i))));
                            required++;
                        }
                    }
                    yield add(total, Math.max(0, required - 1));
                }
                case Value.Array a -> add(2 + Math.max(0, a.minItems - 1),
                        (int) Math.min(NONE, (long) a.minItems * measure(a.items)));
                case Value.Str s -> add(2, s.pattern == null ? s.minLength
                        : Math.max(s.minLength, Math.min(NONE, s.pattern.remaining(s.pattern.startSet()))));
                case Value.Num num -> Numbers.shortest((Pos.Num) Pos.Num.start(num, Pos.End.INSTANCE));
                case Value.Literals l -> l.texts.stream().mapToInt(t -> t.bytes.length).min().orElse(NONE);
                case Value.Union u -> u.alternatives.stream().mapToInt(this::measure).min().orElse(NONE);
                case Value.Ref r -> measure(r.target);
            };
            Integer before = table.put(v, n);
            changed |= before == null || before != n;
            return n;
        }
    }
}
