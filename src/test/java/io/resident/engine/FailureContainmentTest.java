package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import io.resident.model.CausalLM.Segment;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** An exception inside a step fails the requests of that step, frees their blocks, and the engine serves on. */
class FailureContainmentTest {

    /** A prompt holding this id makes the model throw, as a CUDA out-of-memory error would. */
    private static final int POISON = 666;

    @Test
    void anInjectedFailureFailsThatStepsRequestsOnly() throws Exception {
        GenerationRequest running = new GenerationRequest(new int[] {5, 6, 7, 8}, SamplingParams.greedy(100));
        GenerationRequest poisoned = new GenerationRequest(new int[] {9, POISON, 10}, SamplingParams.greedy(4));
        GenerationRequest waiting = new GenerationRequest(new int[] {11, 12, 13, 14, 15}, SamplingParams.greedy(12));
        CountDownLatch firstStep = new CountDownLatch(1), poisonedSubmitted = new CountDownLatch(1);
        AtomicInteger steps = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        EngineMetrics counting = new EngineMetrics() {
            @Override
            public void failed(Throwable cause) {
                failures.incrementAndGet();
            }
        };
        try (TestModel test = TestModel.load("qwen2-tiny", 2, 128)) {
            ForwardingModel failing = new ForwardingModel(test.model()) {
                @Override
                protected void beforeStep(List<Segment> segments) {
                    if (steps.incrementAndGet() == 1) {
                        firstStep.countDown();
                        PreemptionTest.await(poisonedSubmitted); // so the next step holds both: a decode and the poison
                    }
                    if (segments.stream().anyMatch(s -> Arrays.stream(s.tokens()).anyMatch(id -> id == POISON))) {
                        throw new IllegalStateException("CUDA error: out of memory");
                    }
                }
            };
            int[] reference;
            try (Engine alone = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 64, false))) {
                reference = alone.generate(waiting).tokenIds();
            }
            try (Engine engine = new Engine(failing, test.tokenizer(), new EngineOptions(2, 8, Duration.ofMinutes(1), 64, true), counting)) {
                TokenStream first = engine.submit(running);
                firstStep.await();
                TokenStream second = engine.submit(poisoned);
                poisonedSubmitted.countDown();
                // the third waits for a batch slot, outside the failing step
                CompletableFuture<Generation> third = CompletableFuture.supplyAsync(() -> generate(engine, waiting), Thread::startVirtualThread);

                assertInstanceOf(Token.class, first.next(), "the first request's prefill step went well");
                assertEquals("CUDA error: out of memory", assertInstanceOf(Error.class, first.next()).cause().getMessage(),
                        "its decode shared the failing step");
                assertEquals("CUDA error: out of memory", assertInstanceOf(Error.class, second.next()).cause().getMessage());
                assertEquals(2, failures.get(), "two requests failed");

                Generation served = third.get(1, TimeUnit.MINUTES);
                assertArrayEquals(reference, served.tokenIds(), "the request outside the step is served as if nothing happened");
                Engine.Health health = engine.health();
                assertEquals(Engine.State.RUNNING, health.state());
                assertTrue(health.live(Duration.ofMinutes(1)), "liveness stays UP");
                engine.verifyKvCache();
                assertEquals(new Engine.Stats(2, 0, 0, 0, 16), engine.stats(), "slots and blocks went back");
                assertArrayEquals(reference, engine.generate(waiting).tokenIds(), "and it serves on");
            }
        }
    }

    private static Generation generate(Engine engine, GenerationRequest request) {
        try {
            return engine.generate(request);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
