package io.resident.grammar;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A position inside a constrained output, after some bytes of it: immutable, and equal to another exactly when both
 * accept the same continuations, so that a position is the key of its token mask. Every position has a way to its
 * end (no dead ends), so a mask is never empty.
 */
sealed interface Pos {

    /** Whitespace bytes allowed in a row between JSON tokens: a model cannot pad forever. */
    int MAX_WHITESPACE = 8;

    /** The position after one more byte (0 to 255), or null when the byte cannot follow. */
    Pos feed(int b);

    /** Whether the output may end here. */
    boolean canEnd();

    /** The fewest bytes that complete the output from here (a character counted as one byte). */
    int shortest();

    /** The union of these positions (nulls left out), null when none is left. */
    static Pos any(Pos... positions) {
        Set<Pos> all = new LinkedHashSet<>();
        for (Pos p : positions) {
            if (p instanceof Fork f) {
                all.addAll(f.alternatives());
            } else if (p != null) {
                all.add(p);
            }
        }
        return all.isEmpty() ? null : all.size() == 1 ? all.iterator().next() : new Fork(Set.copyOf(all));
    }

    static Pos any(List<Pos> positions) {
        return any(positions.toArray(Pos[]::new));
    }

    /** What comes after a part of the output once it is complete. */
    interface Cont {
        Pos resume();

        /** The fewest bytes that complete the output from here. */
        int shortest();
    }

    /** The end of the output. */
    record End() implements Pos, Cont {
        static final End INSTANCE = new End();

        @Override
        public Pos feed(int b) {
            return null;
        }

        @Override
        public boolean canEnd() {
            return true;
        }

        @Override
        public Pos resume() {
            return this;
        }

        @Override
        public int shortest() {
            return 0;
        }
    }

    /** Several positions at once: an output that could still be any of them. */
    record Fork(Set<Pos> alternatives) implements Pos {
        @Override
        public Pos feed(int b) {
            List<Pos> next = new ArrayList<>(alternatives.size());
            for (Pos p : alternatives) {
                next.add(p.feed(b));
            }
            return any(next);
        }

        @Override
        public boolean canEnd() {
            return alternatives.stream().anyMatch(Pos::canEnd);
        }

        @Override
        public int shortest() {
            return alternatives.stream().mapToInt(Pos::shortest).min().orElse(Shortest.NONE);
        }
    }

    /** Inside a literal text. */
    record Lit(Text text, int at, Cont then) implements Pos {
        static Pos of(Text text, Cont then) {
            return text.bytes.length == 0 ? then.resume() : new Lit(text, 0, then);
        }

        @Override
        public Pos feed(int b) {
            if ((text.bytes[at] & 0xFF) != b) {
                return null;
            }
            return at + 1 == text.bytes.length ? then.resume() : new Lit(text, at + 1, then);
        }

        @Override
        public boolean canEnd() {
            return false;
        }

        @Override
        public int shortest() {
            return Shortest.add(text.bytes.length - at, then.shortest());
        }
    }

    /** Optional whitespace (spaces and newlines, at most {@link #MAX_WHITESPACE}) before {@code after}. */
    record Ws(int used, Pos after) implements Pos {
        static Pos before(Pos after) {
            return after == null ? null : new Ws(0, after);
        }

        @Override
        public Pos feed(int b) {
            Pos more = (b == ' ' || b == '\n') && used < MAX_WHITESPACE ? new Ws(used + 1, after) : null;
            return any(more, after.feed(b));
        }

        @Override
        public boolean canEnd() {
            return after.canEnd();
        }

        @Override
        public int shortest() {
            return after.shortest();
        }
    }

    /**
     * Inside a JSON string, after its opening quote.
     *
     * @param length  characters so far
     * @param pattern the pattern's automaton states, null without a pattern
     * @param pending UTF-8 continuation bytes still to come
     * @param lo      the lowest byte the next continuation byte may be
     * @param hi      the highest
     * @param code    the character being read (UTF-8 or \\u escape), its bits so far
     * @param escape  0 outside an escape, 1 after a backslash, 2 to 5 after \\u and 0 to 3 hex digits
     * @param keyOf   for a key of an object's other members: that object, whose declared names it may not take
     * @param key     the key so far when keyOf declares names, else null
     */
    record Str(Value.Str node, int length, BitSet pattern, int pending, int lo, int hi, int code, int escape,
            Value.Obj keyOf, String key, Cont then) implements Pos {

        static Pos open(Value.Str node, Value.Obj keyOf, Cont then) {
            BitSet pattern = node.pattern == null ? null : node.pattern.startSet();
            String key = keyOf != null && !keyOf.declared.isEmpty() ? "" : null;
            return new Str(node, 0, pattern, 0, 0, 0, 0, 0, keyOf, key, then);
        }

        @Override
        public Pos feed(int b) {
            if (pending > 0) {
                if (b < lo || b > hi) {
                    return null;
                }
                int c = (code << 6) | (b & 0x3F);
                if (pending == 1) {
                    return character(c);
                }
                return reachable(c << 6 * (pending - 1), ((c + 1) << 6 * (pending - 1)) - 1)
                        ? new Str(node, length, pattern, pending - 1, 0x80, 0xBF, relevant(c), 0, keyOf, key, then) : null;
            }
            if (escape == 1) {
                int c = switch (b) {
                    case '"', '\\', '/' -> b;
                    case 'b' -> '\b';
                    case 'f' -> '\f';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    case 't' -> '\t';
                    default -> -1;
                };
                if (c >= 0) {
                    return character(c);
                }
                return b == 'u' ? new Str(node, length, pattern, 0, 0, 0, 0, 2, keyOf, key, then) : null;
            }
            if (escape >= 2) {
                int digit = Character.digit(b, 16);
                if (digit < 0) {
                    return null;
                }
                int c = code * 16 + digit;
                int left = 5 - escape;
                if (left == 0) {
                    return c >= 0xD800 && c <= 0xDFFF ? null : character(c); // no lone surrogates
                }
                return reachable(c << 4 * left, ((c + 1) << 4 * left) - 1)
                        ? new Str(node, length, pattern, 0, 0, 0, c, escape + 1, keyOf, key, then) : null;
            }
            if (b == '"') {
                boolean complete = length >= node.minLength && (pattern == null || node.pattern.accepts(pattern))
                        && (key == null || !keyOf.declared.contains(key));
                return complete ? then.resume() : null;
            }
            if (b == '\\') {
                return reachable(0, 0xFFFF) ? new Str(node, length, pattern, 0, 0, 0, 0, 1, keyOf, key, then) : null;
            }
            if (b < 0x20) {
                return null; // control characters only escaped
            }
            if (b < 0x80) {
                return character(b);
            }
            // a UTF-8 lead byte: how many bytes follow, the range of the next one, the characters it can start
            int more, first, last, bits;
            if (b >= 0xC2 && b <= 0xDF) {
                more = 1; first = 0x80; last = 0xBF; bits = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                more = 2; first = b == 0xE0 ? 0xA0 : 0x80; last = b == 0xED ? 0x9F : 0xBF; bits = b & 0x0F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                more = 3; first = b == 0xF0 ? 0x90 : 0x80; last = b == 0xF4 ? 0x8F : 0xBF; bits = b & 0x07;
            } else {
                return null;
            }
            int shift = 6 * more;
            int lowest = Math.max(bits << shift, more == 1 ? 0x80 : more == 2 ? 0x800 : 0x10000);
            return reachable(lowest, Math.min(((bits + 1) << shift) - 1, 0x10FFFF))
                    ? new Str(node, length, pattern, more, first, last, relevant(bits), 0, keyOf, key, then) : null;
        }

        /** A split character's bits matter only to a pattern or a key; without them positions repeat, and so do masks. */
        private int relevant(int bits) {
            return pattern == null && key == null ? 0 : bits;
        }

        /** Whether some character in [first, last] may come next and still leave the string completable. */
        private boolean reachable(int first, int last) {
            if (length >= node.maxLength) {
                return false;
            }
            return pattern == null || node.pattern.canStep(pattern, first, last, node.maxLength - length);
        }

        private Pos character(int c) {
            if (length >= node.maxLength) {
                return null;
            }
            BitSet next = null;
            if (pattern != null) {
                next = node.pattern.step(pattern, c);
                if (next == null || length + 1L + node.pattern.remaining(next) > node.maxLength) {
                    return null;
                }
            }
            String k = key == null ? null : key + Character.toString(c);
            // without a maximum the count matters only up to the minimum: positions then repeat, and so do their masks
            int counted = node.maxLength == Integer.MAX_VALUE ? Math.min(length + 1, node.minLength) : length + 1;
            return new Str(node, counted, next, 0, 0, 0, 0, 0, keyOf, k, then);
        }

        @Override
        public boolean canEnd() {
            return false;
        }

        /** The unfinished character's bytes, the characters still needed, the closing quote and what follows. */
        @Override
        public int shortest() {
            // after a backslash a pattern may take only \\u escapes of its characters
            int partial = pending > 0 ? pending : escape == 1 ? (pattern == null ? 1 : 5) : escape >= 2 ? 6 - escape : 0;
            int written = partial > 0 ? length + 1 : length;
            int chars = Math.max(0, node.minLength - written);
            if (pattern != null) { // the unfinished character's state is unknown: its progress is not counted
                chars = Math.max(chars, Math.min(Shortest.NONE, node.pattern.remaining(pattern)));
            }
            if (key != null && partial == 0 && keyOf.declared.contains(key)) {
                chars = Math.max(chars, 1);
            }
            return Shortest.add(partial + chars + 1, then.shortest());
        }
    }

    /**
     * Inside a JSON number. Exponents are never written; the digits are kept only when the schema bounds the value.
     *
     * @param phase      where in the number: see the constants of {@link Numbers}
     * @param negative   after a minus sign
     * @param intDigits  digits before the point so far
     * @param fracDigits digits after it
     * @param digits     the digits written (with the point), for bounds; null when unbounded
     */
    record Num(Value.Num node, int phase, boolean negative, int intDigits, int fracDigits, String digits, Cont then)
            implements Pos {

        static Pos start(Value.Num node, Cont then) {
            return new Num(node, Numbers.START, false, 0, 0, node.bounded() ? "" : null, then);
        }

        @Override
        public Pos feed(int b) {
            Num next = Numbers.next(this, b);
            if (next != null) {
                return Numbers.feasible(next) ? next : null;
            }
            return Numbers.complete(this) ? then.resume().feed(b) : null;
        }

        @Override
        public boolean canEnd() {
            return Numbers.complete(this) && then.resume().canEnd();
        }

        @Override
        public int shortest() {
            return Shortest.add(Numbers.shortest(this), then.shortest());
        }
    }
}
