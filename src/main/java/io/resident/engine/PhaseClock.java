package io.resident.engine;

import io.resident.engine.EngineProfile.Phase;

/**
 * The engine thread's accounting of its time by phase: one System.nanoTime a phase boundary, plain fields written by
 * the engine thread alone, and an immutable {@link EngineProfile} published at the end of each loop and at the start
 * and end of each wait for work, for readers on other threads.
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

    /** The thread begins to wait for work: published, so that a reader counts the wait as idle up to its own moment. */
    synchronized void waitForWork() {
        enter(Phase.IDLE);
        published = new EngineProfile(steps, nanos, since, true);
    }

    /**
     * The wait ended: its idle time is published up to now under the lock {@link #profile} takes, so a reader's
     * moment is never after the wake it did not see, and no working time is read as idle.
     */
    synchronized void woke() {
        enter(Phase.SCHEDULE);
        published = new EngineProfile(steps, nanos, since, false);
    }

    /** As of now while the engine thread waits for work, else as of its last loop or wake; any thread. */
    synchronized EngineProfile profile() {
        return published.at(System.nanoTime());
    }
}
