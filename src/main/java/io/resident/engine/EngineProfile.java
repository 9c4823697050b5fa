package io.resident.engine;

import java.util.Arrays;

/**
 * Where the engine thread's time went from its start, by phase, as of the end of one of its loops or the start of a
 * wait for work: the phases' times sum to the time from the thread's start to that moment. Two profiles' difference
 * ({@link #since}) is a window's.
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

    private final long steps;
    private final long[] nanos;
    private final long asOfNanos;
    private final boolean waiting;

    /**
     * A profile read elsewhere (metrics), of no known moment.
     *
     * @param steps model steps run
     * @param nanos time in each phase, in {@link Phase} order
     */
    public EngineProfile(long steps, long[] nanos) {
        this(steps, nanos, 0, false);
    }

    /**
     * @param asOfNanos the moment it describes (System.nanoTime)
     * @param waiting   whether the thread began to wait for work at that moment
     */
    EngineProfile(long steps, long[] nanos, long asOfNanos, boolean waiting) {
        if (nanos.length != Phase.values().length) {
            throw new IllegalArgumentException("one time per phase: " + Phase.values().length + ", got " + nanos.length);
        }
        this.steps = steps;
        this.nanos = nanos.clone();
        this.asOfNanos = asOfNanos;
        this.waiting = waiting;
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

    /**
     * This profile carried on to a later moment: where the thread was waiting for work at this profile's moment and
     * still is (its caller submitted nothing since), the time since is idle. A profile read while the engine is at rest
     * is otherwise as old as its last wait's start, or its last heartbeat.
     */
    public EngineProfile at(long nanoTime) {
        if (!waiting || nanoTime <= asOfNanos) {
            return this;
        }
        long[] later = nanos.clone();
        later[Phase.IDLE.ordinal()] += nanoTime - asOfNanos;
        return new EngineProfile(steps, later, nanoTime, true);
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
