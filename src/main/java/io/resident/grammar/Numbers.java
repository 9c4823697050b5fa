package io.resident.grammar;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How a JSON number is written byte by byte under a schema's type and bounds. Its length is bounded (at most
 * {@link #MAX_INT_DIGITS} digits before the point and {@link #MAX_FRAC_DIGITS} after it, no exponent), so a number
 * always ends; with bounds, a prefix is allowed only while some number it can still become lies within them.
 */
final class Numbers {

    static final int START = 0, MINUS = 1, ZERO = 2, INT = 3, POINT = 4, FRAC = 5;
    static final int MAX_INT_DIGITS = 15;
    static final int MAX_FRAC_DIGITS = 8;
    /** The longest number written: a sign, the digits and the point. */
    static final int LONGEST = MAX_INT_DIGITS + MAX_FRAC_DIGITS + 2;
    private static final byte[] NUMBER_BYTES = "0123456789.-".getBytes(StandardCharsets.US_ASCII);
    private static final int SEARCH_WIDTH = 1024;
    private static final BigDecimal FRAC_STEP = BigDecimal.ONE.movePointLeft(MAX_FRAC_DIGITS);

    private Numbers() {}

    /** The number after byte b when b continues it, else null. */
    static Pos.Num next(Pos.Num n, int b) {
        boolean integer = n.node().integer;
        if (b >= '0' && b <= '9') {
            return switch (n.phase()) {
                case START, MINUS -> with(n, b == '0' ? ZERO : INT, n.intDigits() + 1, n.fracDigits(), b);
                case INT -> n.intDigits() < MAX_INT_DIGITS ? with(n, INT, n.intDigits() + 1, 0, b) : null;
                case POINT, FRAC -> n.fracDigits() < MAX_FRAC_DIGITS ? with(n, FRAC, n.intDigits(), n.fracDigits() + 1, b) : null;
                default -> null;
            };
        }
        if (b == '-' && n.phase() == START) {
            return new Pos.Num(n.node(), MINUS, true, 0, 0, n.digits(), n.then());
        }
        if (b == '.' && !integer && (n.phase() == INT || n.phase() == ZERO)) {
            return with(n, POINT, n.intDigits(), 0, b);
        }
        return null;
    }

    private static Pos.Num with(Pos.Num n, int phase, int intDigits, int fracDigits, int b) {
        String digits = n.digits() == null ? null : n.digits() + (char) b;
        return new Pos.Num(n.node(), phase, n.negative(), intDigits, fracDigits, digits, n.then());
    }

    /** Whether any number can be written from the start position {@code start}. */
    static boolean satisfiable(Pos.Num start) {
        for (int b : NUMBER_BYTES) {
            Pos.Num next = next(start, b);
            if (next != null && feasible(next)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The fewest bytes that complete this number within its bounds: a breadth-first search over the digits, whose
     * width is capped (an answer past the cap is longer than the shortest, never shorter than what it takes).
     */
    static int shortest(Pos.Num n) {
        if (n.digits() == null) {
            return n.phase() == START || n.phase() == MINUS || n.phase() == POINT ? 1 : 0;
        }
        List<Pos.Num> level = List.of(n);
        for (int depth = 0; depth <= LONGEST && !level.isEmpty(); depth++) {
            Set<Pos.Num> next = new LinkedHashSet<>();
            for (Pos.Num p : level) {
                if (complete(p)) {
                    return depth;
                }
                for (byte b : NUMBER_BYTES) {
                    Pos.Num q = next(p, b);
                    if (q != null && next.size() < SEARCH_WIDTH && feasible(q)) {
                        next.add(q);
                    }
                }
            }
            level = List.copyOf(next);
        }
        return LONGEST;
    }

    /** A whole number within the bounds. */
    static boolean complete(Pos.Num n) {
        boolean written = n.phase() == ZERO || n.phase() == INT || n.phase() == FRAC;
        return written && (n.digits() == null || within(n.node(), value(n)));
    }

    /** Whether some number this prefix can still become lies within the bounds. */
    static boolean feasible(Pos.Num n) {
        Value.Num node = n.node();
        if (!node.bounded()) {
            return true;
        }
        BigDecimal step = node.integer ? BigDecimal.ONE : FRAC_STEP;
        return switch (n.phase()) {
            case ZERO -> spanWithin(node, n.negative(), BigDecimal.ZERO, node.integer ? BigDecimal.ZERO : BigDecimal.ONE.subtract(step), step);
            case INT -> {
                BigDecimal d = new BigDecimal(n.digits());
                for (int more = 0; more + n.intDigits() <= MAX_INT_DIGITS; more++) {
                    BigDecimal scale = BigDecimal.TEN.pow(more);
                    if (spanWithin(node, n.negative(), d.multiply(scale), d.add(BigDecimal.ONE).multiply(scale).subtract(step), step)) {
                        yield true;
                    }
                }
                yield false;
            }
            case POINT, FRAC -> {
                BigDecimal base = new BigDecimal(n.phase() == POINT ? n.digits() + "0" : n.digits());
                BigDecimal width = BigDecimal.ONE.movePointLeft(n.fracDigits());
                yield spanWithin(node, n.negative(), base, base.add(width).subtract(FRAC_STEP), FRAC_STEP);
            }
            case MINUS -> spanWithin(node, true, BigDecimal.ZERO, BigDecimal.TEN.pow(MAX_INT_DIGITS).subtract(step), step);
            default -> true;
        };
    }

    /** Whether the grid lo, lo + step, ... up to hi (magnitudes, negated when negative) has a point within the bounds. */
    private static boolean spanWithin(Value.Num node, boolean negative, BigDecimal lo, BigDecimal hi, BigDecimal step) {
        BigDecimal first = negative ? hi.negate() : lo;
        BigDecimal last = negative ? lo.negate() : hi;
        BigDecimal x = first;
        if (node.minimum != null && x.compareTo(node.minimum) <= 0) {
            x = node.minimum.divide(step, 0, RoundingMode.CEILING).multiply(step);
            if (node.exclusiveMinimum && x.compareTo(node.minimum) == 0) {
                x = x.add(step);
            }
            x = x.max(first);
        }
        return x.compareTo(last) <= 0 && within(node, x);
    }

    static boolean within(Value.Num node, BigDecimal v) {
        if (node.minimum != null) {
            int c = v.compareTo(node.minimum);
            if (c < 0 || (c == 0 && node.exclusiveMinimum)) {
                return false;
            }
        }
        if (node.maximum != null) {
            int c = v.compareTo(node.maximum);
            return c < 0 || (c == 0 && !node.exclusiveMaximum);
        }
        return true;
    }

    private static BigDecimal value(Pos.Num n) {
        BigDecimal v = new BigDecimal(n.digits());
        return n.negative() ? v.negate() : v;
    }
}
