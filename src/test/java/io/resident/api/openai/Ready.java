package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.ModelHolder;
import io.resident.engine.ServedModel;
import java.time.Duration;

/** The app answers HTTP at once, while its model still loads on its own thread: tests wait for it. */
final class Ready {

    private static final Duration LOAD_WITHIN = Duration.ofSeconds(120);

    private Ready() {}

    static ServedModel await(ModelHolder holder) throws InterruptedException {
        long deadline = System.nanoTime() + LOAD_WITHIN.toNanos();
        while (holder.state() == ModelHolder.State.LOADING && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(holder.ready(), "the model is " + holder.state() + " (loading takes at most " + LOAD_WITHIN + "); see the log");
        return holder.served();
    }

    /** Waits until no reply holds a slot, and says whether that happened within {@code within}. */
    static boolean idle(ModelHolder holder, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (holder.served().engine().stats().running() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return holder.served().engine().stats().running() == 0;
    }
}
