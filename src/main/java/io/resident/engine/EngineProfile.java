package io.resident.engine;

import java.util.Arrays;

/**
 * Where the engine thread's time went from its start, by phase, as of the end of one of its loops: the phases' times
 * sum to the time from the thread's start to that moment. Two profiles' difference ({@link #since}) is a window's.
 */
public final class EngineProfile {

    /** What the engine thread does. */
    public enum Phase {
        /** Composing steps: admissions, ends and cancellations, KV-cache blocks, prefix-cache lookups and index. */
        SCHEDULE("schedule"),
        /** {@code CausalLM.step}: the forward pass, sampling on the device and the one copy of its results to the host. */
        MODEL("model"),
        /** Reading each sequence's choice back (its grammar moved on), token-level ends, the outputs queued. */
        SAMPLE("sample"),
        /** Handing a step's outputs to the output thread, waiting for the previous step's to be out first. */
        OUTPUT("output"),
        /** Waiting for work. */
        IDLE("idle");

        private final String tag;

        Phase(String tag) {
            this.tag = tag;
        }

        /** Its name in metrics and reports. */
        public String tag() {
            return tag;
        }
    }

    /** Nothing yet. */
    static final EngineProfile ZERO = new EngineProfile(0, new long[Phase.values().length]);

    private final long steps;
    private final long[] nanos;

    /**
     * @param steps model steps run
     * @param nanos time in each phase, in {@link Phase} order
     */
    public EngineProfile(long steps, long[] nanos) {
        if (nanos.length != Phase.values().length) {
            throw new IllegalArgumentException("one time per phase: " + Phase.values().length + ", got " + nanos.length);
        }
        this.steps = steps;
        this.nanos = nanos.clone();
    }

    /** Model steps run. */
    public long steps() {
        return steps;
    }

    public long nanos(Phase phase) {
        return nanos[phase.ordinal()];
    }

    /** The time of all phases: the engine thread's time from its start to this profile's moment. */
    public long totalNanos() {
        return Arrays.stream(nanos).sum();
    }

    /** What happened between an earlier profile of the same engine and this one. */
    public EngineProfile since(EngineProfile earlier) {
        long[] diff = new long[nanos.length];
        for (int i = 0; i < diff.length; i++) {
            diff[i] = nanos[i] - earlier.nanos[i];
        }
        return new EngineProfile(steps - earlier.steps, diff);
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(steps + " steps");
        for (Phase phase : Phase.values()) {
            out.append(", ").append(phase.tag()).append(' ').append(nanos(phase) / 1_000_000).append(" ms");
        }
        return out.toString();
    }
}
