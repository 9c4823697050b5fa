package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.EngineProfile.Phase;
import io.resident.model.CausalLM;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The engine thread's time by phase: the phases sum to the thread's time from the engine's construction to its last
 * loop, every model step is counted, and the time inside the model's steps (each made a known 5 ms longer) is the
 * model phase's, not another's. Bounds come from timestamps taken around the engine, never from speeds.
 */
class EngineProfileTest {

    private static final long KNOWN_STEP_MS = 5;

    @Test
    void phasesSumToTheEngineThreadsTimeAndTheModelsStepsAreModelTime() throws Exception {
        try (TestModel test = TestModel.load("qwen2-tiny", 2, 64)) {
            Random random = new Random(11);
            GenerationRequest first = new GenerationRequest(random.ints(40, 3, 1000).toArray(), SamplingParams.greedy(6));
            GenerationRequest second = new GenerationRequest(random.ints(9, 3, 1000).toArray(), SamplingParams.greedy(6));
            Timed model = new Timed(test.model());

            long beforeEngine = System.nanoTime();
            Engine engine = new Engine(model, test.tokenizer(), new EngineOptions(2, 2, Duration.ofMinutes(1), 16, false),
                    EngineMetrics.NONE);
            long engineBuilt = System.nanoTime();
            EngineProfile midway;
            long repliesRead;
            try {
                TokenStream a = engine.submit(first);
                TokenStream b = engine.submit(second);
                assertEquals(6, a.collect().done().completionTokens());
                midway = engine.profile();
                assertEquals(6, b.collect().done().completionTokens());
                repliesRead = System.nanoTime();
            } finally {
                engine.close();
            }
            long engineClosed = System.nanoTime();
            EngineProfile profile = engine.profile();

            assertEquals(model.calls.get(), profile.steps(), "every model step is counted");
            assertTrue(profile.steps() >= 8, "40 prompt tokens in chunks of 16, then 5 more tokens: " + profile);
            assertEquals(Arrays.stream(Phase.values()).mapToLong(profile::nanos).sum(), profile.totalNanos());
            assertTrue(profile.totalNanos() <= engineClosed - beforeEngine,
                    "the phases hold no more than the engine thread's life: " + profile);
            assertTrue(profile.totalNanos() >= repliesRead - engineBuilt,
                    "the last loop came after the replies were read, when the engine was stopped: " + profile);
            assertTrue(profile.nanos(Phase.MODEL) >= model.insideNanos.get(), "the model's steps are model time: " + profile);
            assertTrue(model.insideNanos.get() >= profile.steps() * KNOWN_STEP_MS * 1_000_000);
            assertTrue(profile.totalNanos() - profile.nanos(Phase.MODEL) <= engineClosed - beforeEngine - model.insideNanos.get(),
                    "no other phase holds the model's time: " + profile);

            EngineProfile rest = profile.since(midway);
            assertEquals(profile.steps() - midway.steps(), rest.steps());
            for (Phase phase : Phase.values()) {
                assertTrue(midway.nanos(phase) >= 0 && rest.nanos(phase) >= 0, phase + " only grows: " + midway + " then " + profile);
            }
        }
    }

    @Test
    void aWaitForWorkCarriedOnIsIdleTimeAndAWindowIsTheDifference() {
        long[] nanos = {10, 20, 30, 40, 50};
        EngineProfile waiting = new EngineProfile(3, nanos, 1_000, true);
        EngineProfile later = waiting.at(1_500);
        assertEquals(550, later.nanos(Phase.IDLE), "the wait since its start is idle");
        assertEquals(waiting.totalNanos() + 500, later.totalNanos());
        assertEquals(3, later.steps());
        assertEquals(waiting, waiting.at(900), "no moment before the profile's own");
        EngineProfile stepping = new EngineProfile(3, nanos, 1_000, false);
        assertEquals(stepping, stepping.at(1_500), "a busy thread's time is counted where it is spent, at its next loop's end");

        EngineProfile window = new EngineProfile(7, new long[] {11, 25, 31, 48, 50}, 2_000, false).since(stepping);
        assertEquals(4, window.steps());
        assertEquals(List.of(1L, 5L, 1L, 8L, 0L), Arrays.stream(Phase.values()).map(window::nanos).toList());
    }

    /** The real model, each step made KNOWN_STEP_MS longer, with the time spent inside its steps. */
    private static final class Timed extends ForwardingModel {
        final AtomicLong calls = new AtomicLong();
        final AtomicLong insideNanos = new AtomicLong();

        Timed(CausalLM model) {
            super(model);
        }

        @Override
        protected void beforeStep(List<Segment> segments) {
            try {
                Thread.sleep(KNOWN_STEP_MS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public List<Scores> step(List<Segment> segments) {
            long begin = System.nanoTime();
            try {
                return super.step(segments);
            } finally {
                insideNanos.addAndGet(System.nanoTime() - begin);
                calls.incrementAndGet();
            }
        }
    }
}
