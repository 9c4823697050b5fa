package io.resident.grammar;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;

/**
 * A JSON schema "pattern" (ECMA-262 syntax, unanchored unless it says ^ or $) as an NFA over code points, run as a
 * set of states so that each character of a string is checked as it is written. Literals, escapes, '.', classes,
 * groups, alternation and every quantifier are supported; what needs more than a finite automaton (backreferences,
 * lookaround, word boundaries) is refused.
 */
final class Regex {

    private static final int MAX_CODE_POINT = 0x10FFFF;
    private static final int MAX_STATES = 4096;
    private static final int[] ANY = {0, MAX_CODE_POINT};
    private static final int[] DIGIT = {'0', '9'};
    private static final int[] WORD = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
    private static final int[] SPACE = {'\t', '\r', ' ', ' ', 0xA0, 0xA0, 0x1680, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029,
            0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF};
    private static final int[] DOT = complement(new int[] {'\n', '\n', '\r', '\r', 0x2028, 0x2029});

    /** Per state: the code point ranges of its one labelled edge (null for none), its target, its empty edges. */
    private final List<int[]> classes = new ArrayList<>();
    private final List<Integer> targets = new ArrayList<>();
    private final List<int[]> empties = new ArrayList<>();
    private final int start;
    private final int accept;
    /** The fewest characters from each state to the accepting one. */
    private final int[] distance;
    private final BitSet startSet;

    private Regex(String pattern) {
        Parser parser = new Parser(pattern);
        Node root = parser.parse();
        if (!parser.anchoredStart) {
            root = new Node.Seq(List.of(new Node.Repeat(new Node.Chars(ANY), 0, -1), root));
        }
        if (!parser.anchoredEnd) {
            root = new Node.Seq(List.of(root, new Node.Repeat(new Node.Chars(ANY), 0, -1)));
        }
        int[] fragment = emit(root);
        start = fragment[0];
        accept = fragment[1];
        distance = distances();
        BitSet s = new BitSet();
        s.set(start);
        startSet = closure(s);
    }

    /** @throws IllegalArgumentException a pattern this engine cannot run, with the reason */
    static Regex compile(String pattern) {
        return new Regex(pattern);
    }

    BitSet startSet() {
        return startSet;
    }

    boolean accepts(BitSet set) {
        return set.get(accept);
    }

    /** The states after one more character, or null when the pattern cannot match any more. */
    BitSet step(BitSet set, int codePoint) {
        BitSet next = new BitSet();
        for (int s = set.nextSetBit(0); s >= 0; s = set.nextSetBit(s + 1)) {
            int[] ranges = classes.get(s);
            if (ranges != null && contains(ranges, codePoint)) {
                next.set(targets.get(s));
            }
        }
        return next.isEmpty() ? null : closure(next);
    }

    /** The fewest characters that still lead to a match. */
    int remaining(BitSet set) {
        int best = Integer.MAX_VALUE;
        for (int s = set.nextSetBit(0); s >= 0; s = set.nextSetBit(s + 1)) {
            best = Math.min(best, distance[s]);
        }
        return best;
    }

    /** Whether some character in [lo, hi] leads to a state that can still match within {@code budget} more characters. */
    boolean canStep(BitSet set, int lo, int hi, int budget) {
        for (int s = set.nextSetBit(0); s >= 0; s = set.nextSetBit(s + 1)) {
            int[] ranges = classes.get(s);
            if (ranges != null && distance[targets.get(s)] < budget && intersects(ranges, lo, hi)) {
                return true;
            }
        }
        return false;
    }

    private BitSet closure(BitSet set) {
        Deque<Integer> todo = new ArrayDeque<>();
        set.stream().forEach(todo::push);
        while (!todo.isEmpty()) {
            for (int t : empties.get(todo.pop())) {
                if (!set.get(t)) {
                    set.set(t);
                    todo.push(t);
                }
            }
        }
        return set;
    }

    /** Backwards from the accepting state: a labelled edge costs one character, an empty one nothing. */
    private int[] distances() {
        int n = classes.size();
        int[] d = new int[n];
        Arrays.fill(d, Integer.MAX_VALUE);
        d[accept] = 0;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int s = 0; s < n; s++) {
                int best = d[s];
                if (classes.get(s) != null && d[targets.get(s)] != Integer.MAX_VALUE) {
                    best = Math.min(best, d[targets.get(s)] + 1);
                }
                for (int t : empties.get(s)) {
                    best = Math.min(best, d[t]);
                }
                if (best < d[s]) {
                    d[s] = best;
                    changed = true;
                }
            }
        }
        return d;
    }

    private int state() {
        if (classes.size() >= MAX_STATES) {
            throw new IllegalArgumentException("the pattern is too large (over " + MAX_STATES + " automaton states)");
        }
        classes.add(null);
        targets.add(-1);
        empties.add(new int[0]);
        return classes.size() - 1;
    }

    private void empty(int from, int to) {
        int[] old = empties.get(from);
        int[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = to;
        empties.set(from, grown);
    }

    /** Thompson's construction: returns {start, end} of the node's fragment. */
    private int[] emit(Node node) {
        return switch (node) {
            case Node.Chars c -> {
                int s = state(), e = state();
                classes.set(s, c.ranges());
                targets.set(s, e);
                yield new int[] {s, e};
            }
            case Node.Seq seq -> {
                int s = state(), at = s;
                for (Node part : seq.parts()) {
                    int[] f = emit(part);
                    empty(at, f[0]);
                    at = f[1];
                }
                yield new int[] {s, at};
            }
            case Node.Alt alt -> {
                int s = state(), e = state();
                for (Node option : alt.options()) {
                    int[] f = emit(option);
                    empty(s, f[0]);
                    empty(f[1], e);
                }
                yield new int[] {s, e};
            }
            case Node.Repeat r -> {
                int s = state(), at = s;
                for (int i = 0; i < r.min(); i++) {
                    int[] f = emit(r.node());
                    empty(at, f[0]);
                    at = f[1];
                }
                int e = state();
                empty(at, e);
                if (r.max() < 0) {
                    int[] f = emit(r.node());
                    empty(at, f[0]);
                    empty(f[1], at);
                } else {
                    for (int i = r.min(); i < r.max(); i++) {
                        int[] f = emit(r.node());
                        empty(at, f[0]);
                        at = f[1];
                        empty(at, e);
                    }
                }
                yield new int[] {s, e};
            }
        };
    }

    private static boolean contains(int[] ranges, int c) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (c >= ranges[i] && c <= ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    private static boolean intersects(int[] ranges, int lo, int hi) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] <= hi && ranges[i + 1] >= lo) {
                return true;
            }
        }
        return false;
    }

    /** Sorted, merged ranges. */
    private static int[] normalize(List<int[]> ranges) {
        ranges.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> merged = new ArrayList<>();
        for (int[] r : ranges) {
            if (!merged.isEmpty() && r[0] <= merged.getLast()[1] + 1) {
                merged.getLast()[1] = Math.max(merged.getLast()[1], r[1]);
            } else {
                merged.add(new int[] {r[0], r[1]});
            }
        }
        int[] out = new int[merged.size() * 2];
        for (int i = 0; i < merged.size(); i++) {
            out[2 * i] = merged.get(i)[0];
            out[2 * i + 1] = merged.get(i)[1];
        }
        return out;
    }

    private static int[] complement(int[] ranges) {
        List<int[]> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                out.add(new int[] {next, ranges[i] - 1});
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX_CODE_POINT) {
            out.add(new int[] {next, MAX_CODE_POINT});
        }
        return normalize(out);
    }

    private sealed interface Node {
        record Chars(int[] ranges) implements Node {}

        record Seq(List<Node> parts) implements Node {}

        record Alt(List<Node> options) implements Node {}

        /** @param max -1 for unbounded */
        record Repeat(Node node, int min, int max) implements Node {}
    }

    /** Recursive descent over the pattern's code points. */
    private static final class Parser {
        private final int[] p;
        private int at;
        boolean anchoredStart;
        boolean anchoredEnd;

        Parser(String pattern) {
            this.p = pattern.codePoints().toArray();
        }

        Node parse() {
            if (at < p.length && p[at] == '^') {
                anchoredStart = true;
                at++;
            }
            Node node = alternation();
            if (at < p.length) {
                throw new IllegalArgumentException("unbalanced ')' at offset " + at);
            }
            return node;
        }

        private Node alternation() {
            List<Node> options = new ArrayList<>();
            options.add(sequence());
            while (at < p.length && p[at] == '|') {
                at++;
                options.add(sequence());
            }
            return options.size() == 1 ? options.getFirst() : new Node.Alt(options);
        }

        private Node sequence() {
            List<Node> parts = new ArrayList<>();
            while (at < p.length && p[at] != '|' && p[at] != ')') {
                if (p[at] == '$') {
                    if (at != p.length - 1) {
                        throw new IllegalArgumentException("'$' is supported only at the end of the pattern");
                    }
                    anchoredEnd = true;
                    at++;
                    continue;
                }
                if (p[at] == '^') {
                    throw new IllegalArgumentException("'^' is supported only at the start of the pattern");
                }
                parts.add(quantified(atom()));
            }
            return parts.size() == 1 ? parts.getFirst() : new Node.Seq(parts);
        }

        private Node quantified(Node atom) {
            while (at < p.length) {
                int c = p[at];
                int min, max;
                if (c == '*' || c == '+' || c == '?') {
                    at++;
                    min = c == '+' ? 1 : 0;
                    max = c == '?' ? 1 : -1;
                } else if (c == '{' && counted()) {
                    at++;
                    min = number();
                    max = min;
                    if (p[at] == ',') {
                        at++;
                        max = p[at] == '}' ? -1 : number();
                    }
                    at++; // '}'
                    if (max >= 0 && max < min) {
                        throw new IllegalArgumentException("{" + min + "," + max + "}: the maximum is below the minimum");
                    }
                } else {
                    return atom;
                }
                if (at < p.length && p[at] == '?') {
                    at++; // a lazy quantifier matches the same strings
                }
                if (Math.max(min, max) > 1000) {
                    throw new IllegalArgumentException("a repetition count over 1000");
                }
                atom = new Node.Repeat(atom, min, max);
            }
            return atom;
        }

        /** Whether '{' at the cursor starts {n}, {n,} or {n,m} (else it is a literal brace). */
        private boolean counted() {
            int i = at + 1, digits = 0;
            while (i < p.length && Character.isDigit(p[i])) {
                i++;
                digits++;
            }
            if (digits == 0 || i >= p.length) {
                return false;
            }
            if (p[i] == ',') {
                i++;
                while (i < p.length && Character.isDigit(p[i])) {
                    i++;
                }
            }
            return i < p.length && p[i] == '}';
        }

        private int number() {
            int n = 0;
            while (Character.isDigit(p[at])) {
                n = Math.min(100_000, n * 10 + (p[at++] - '0'));
            }
            return n;
        }

        private Node atom() {
            int c = p[at++];
            switch (c) {
                case '(' -> {
                    if (at < p.length && p[at] == '?') {
                        if (at + 1 < p.length && p[at + 1] == ':') {
                            at += 2;
                        } else if (at + 2 < p.length && p[at + 1] == '<' && p[at + 2] != '=' && p[at + 2] != '!') {
                            while (at < p.length && p[at] != '>') {
                                at++;
                            }
                            at++;
                        } else {
                            throw new IllegalArgumentException("lookaround assertions are not supported");
                        }
                    }
                    Node inner = alternation();
                    if (at >= p.length || p[at] != ')') {
                        throw new IllegalArgumentException("unbalanced '('");
                    }
                    at++;
                    return inner;
                }
                case '[' -> {
                    return new Node.Chars(charClass());
                }
                case '.' -> {
                    return new Node.Chars(DOT);
                }
                case '\\' -> {
                    return new Node.Chars(escape(false));
                }
                case '*', '+', '?' -> throw new IllegalArgumentException("nothing to repeat at offset " + (at - 1));
                default -> {
                    return new Node.Chars(new int[] {c, c});
                }
            }
        }

        private int[] charClass() {
            boolean negated = at < p.length && p[at] == '^';
            if (negated) {
                at++;
            }
            List<int[]> ranges = new ArrayList<>();
            boolean first = true;
            while (true) {
                if (at >= p.length) {
                    throw new IllegalArgumentException("unterminated character class");
                }
                if (p[at] == ']' && !first) {
                    at++;
                    break;
                }
                first = false;
                int[] lo = classAtom();
                if (lo.length == 2 && lo[0] == lo[1] && at + 1 < p.length && p[at] == '-' && p[at + 1] != ']') {
                    at++;
                    int[] hi = classAtom();
                    if (hi.length != 2 || hi[0] != hi[1] || hi[0] < lo[0]) {
                        throw new IllegalArgumentException("invalid range in a character class");
                    }
                    ranges.add(new int[] {lo[0], hi[0]});
                } else {
                    for (int i = 0; i < lo.length; i += 2) {
                        ranges.add(new int[] {lo[i], lo[i + 1]});
                    }
                }
            }
            int[] set = normalize(ranges);
            return negated ? complement(set) : set;
        }

        private int[] classAtom() {
            int c = p[at++];
            if (c == '\\') {
                return escape(true);
            }
            return new int[] {c, c};
        }

        private int[] escape(boolean inClass) {
            if (at >= p.length) {
                throw new IllegalArgumentException("the pattern ends with '\\'");
            }
            int c = p[at++];
            return switch (c) {
                case 'd' -> DIGIT;
                case 'D' -> complement(DIGIT);
                case 'w' -> WORD;
                case 'W' -> complement(WORD);
                case 's' -> SPACE;
                case 'S' -> complement(SPACE);
                case 'n' -> new int[] {'\n', '\n'};
                case 'r' -> new int[] {'\r', '\r'};
                case 't' -> new int[] {'\t', '\t'};
                case 'f' -> new int[] {'\f', '\f'};
                case 'v' -> new int[] {0x0B, 0x0B};
                case '0' -> new int[] {0, 0};
                case 'u' -> {
                    if (at + 4 > p.length) {
                        throw new IllegalArgumentException("\\u needs four hex digits");
                    }
                    int v = Integer.parseInt(new String(p, at, 4), 16);
                    at += 4;
                    yield new int[] {v, v};
                }
                case 'b' -> {
                    if (inClass) {
                        yield new int[] {8, 8};
                    }
                    throw new IllegalArgumentException("word boundaries (\\b) are not supported");
                }
                default -> {
                    if (Character.isLetterOrDigit(c)) {
                        throw new IllegalArgumentException("'\\" + Character.toString(c) + "' is not supported");
                    }
                    yield new int[] {c, c};
                }
            };
        }
    }
}
