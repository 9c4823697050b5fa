package io.resident.engine;

import io.resident.engine.EngineProfile.Phase;

/**
 * The engine thread's accounting of its time by phase: one System.nanoTime a phase boundary, plain fields written by
 * the engine thread alone, and an immutable {@link EngineProfile} published at the end of each loop and at the start
 * of each wait for work, for readers on other threads.
 */
final class PhaseClock {

    private final long[] nanos = new long[Phase.values().length];
    private Phase current = Phase.IDLE;
    private long since = System.nanoTime();
    private long steps;
    private volatile EngineProfile published = new EngineProfile(0, nanos, since, true);

    /** The engine thread moves on to a phase; the time since the last boundary goes to the phase it leaves. */
    void enter(Phase phase) {
        long now = System.nanoTime();
        nanos[current.ordinal()] += now - since;
        since = now;
        current = phase;
    }

    /** A model step ran. */
    void stepped() {
        steps++;
    }

    /** Publishes the time up to now, the current phase's included. */
    void publish() {
        enter(current);
        published = new EngineProfile(steps, nanos, since, false);
    }

    /** The thread begins to wait for work: published, so that a reader can count the wait as idle ({@link EngineProfile#at}). */
    void waitForWork() {
        enter(Phase.IDLE);
        published = new EngineProfile(steps, nanos, since, true);
    }

    /** As of the engine thread's last loop or the start of its wait for work (at least once a heartbeat); any thread. */
    EngineProfile profile() {
        return published;
    }
}
