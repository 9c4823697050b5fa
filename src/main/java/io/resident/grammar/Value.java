package io.resident.grammar;

import java.math.BigDecimal;
import java.util.List;
import java.util.Set;

/**
 * A compiled JSON schema node: what one JSON value may be. Compared by identity, so that decoding positions that
 * hold one are cheap cache keys.
 */
sealed interface Value {

    /** Any JSON value (an empty schema). */
    final class Any implements Value {
        static final Any INSTANCE = new Any();
    }

    /**
     * An object whose declared properties are written in their declared order (an optional one may be left out, a
     * required one never), then, when {@code additional} is not null, other keys with values of that schema.
     */
    final class Obj implements Value {
        final List<String> names;
        /** Each declared name as a JSON string literal. */
        final List<Text> keys;
        final List<Value> values;
        final boolean[] required;
        /** The schema of other keys' values; null when none are allowed. */
        final Value additional;
        final Set<String> declared;

        Obj(List<String> names, List<Text> keys, List<Value> values, boolean[] required, Value additional) {
            this.names = names;
            this.keys = keys;
            this.values = values;
            this.required = required;
            this.additional = additional;
            this.declared = Set.copyOf(names);
        }

        /** Whether no required property remains at or after index {@code from}. */
        boolean mayClose(int from) {
            for (int i = from; i < required.length; i++) {
                if (required[i]) {
                    return false;
                }
            }
            return true;
        }

        /** Whether another member may follow the properties before {@code next}. */
        boolean mayContinue(int next) {
            return next < names.size() || (additional != null && mayClose(next));
        }
    }

    final class Array implements Value {
        final Value items;
        final int minItems;
        final int maxItems;

        Array(Value items, int minItems, int maxItems) {
            this.items = items;
            this.minItems = minItems;
            this.maxItems = maxItems;
        }
    }

    /** @param pattern null for none */
    final class Str implements Value {
        final int minLength;
        final int maxLength;
        final Regex pattern;

        Str(int minLength, int maxLength, Regex pattern) {
            this.minLength = minLength;
            this.maxLength = maxLength;
            this.pattern = pattern;
        }
    }

    /** Bounds are null when absent. */
    final class Num implements Value {
        final boolean integer;
        final BigDecimal minimum;
        final boolean exclusiveMinimum;
        final BigDecimal maximum;
        final boolean exclusiveMaximum;

        Num(boolean integer, BigDecimal minimum, boolean exclusiveMinimum, BigDecimal maximum, boolean exclusiveMaximum) {
            this.integer = integer;
            this.minimum = minimum;
            this.exclusiveMinimum = exclusiveMinimum;
            this.maximum = maximum;
            this.exclusiveMaximum = exclusiveMaximum;
        }

        boolean bounded() {
            return minimum != null || maximum != null;
        }
    }

    /** One of these exact texts (enum, const, true, false, null), each a JSON value written compactly. */
    final class Literals implements Value {
        final List<Text> texts;

        Literals(List<Text> texts) {
            this.texts = texts;
        }
    }

    /** Any of these (anyOf, a type array). */
    final class Union implements Value {
        final List<Value> alternatives;

        Union(List<Value> alternatives) {
            this.alternatives = alternatives;
        }
    }

    /** A $ref, resolved once every definition it may reach is compiled (schemas may be recursive). */
    final class Ref implements Value {
        Value target;
    }
}
