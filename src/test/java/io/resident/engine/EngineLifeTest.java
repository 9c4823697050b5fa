package io.resident.engine;

import static io.resident.engine.AdmissionTest.holdTheSlot;
import static io.resident.engine.AdmissionTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Draining, dying and stalling, as the probes and the shutdown see them. */
class EngineLifeTest {

    private static final Duration MAX_SILENCE = Duration.ofMillis(500);
    /** Two at once, as the model's pool holds two contexts. */
    private static final EngineOptions OPTIONS = new EngineOptions(2, 64, Duration.ofSeconds(30), 256, true);
    private static TestModel test;

    @BeforeAll
    static void load() {
        test = TestModel.load("qwen2-tiny", 2, 2048);
    }

    @AfterAll
    static void close() {
        test.close();
    }

    @Test
    void aDrainAdmitsNothingNewAndLetsRunningRepliesFinish() throws Exception {
        // the engine thread stops at a step until the drain is checked, so no slot can free up before it
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean gate = new AtomicBoolean();
        ForwardingModel gated = new ForwardingModel(test.model()) {
            @Override
            protected void beforeStep(List<Segment> segments) {
                if (gate.get()) {
                    PreemptionTest.await(release);
                }
            }
        };
        try (Engine engine = new Engine(gated, test.tokenizer(), OPTIONS, EngineMetrics.NONE)) {
            TokenStream running = engine.submit(request(200));
            TokenStream other = holdTheSlot(engine);
            assertInstanceOf(Token.class, running.next(), "the reply is under way");
            gate.set(true);
            CompletableFuture<TokenStream> waiting = CompletableFuture.supplyAsync(() -> submit(engine, request(4)), Thread::startVirtualThread);
            AdmissionTest.awaitWaiting(engine, 1);
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> drain(engine, Duration.ofMinutes(1)), Thread::startVirtualThread);
            awaitState(engine, Engine.State.DRAINING);

            EngineBusyException busy = assertThrows(EngineBusyException.class, () -> engine.submit(request(4)));
            assertTrue(busy.getMessage().contains("draining"), busy.getMessage());
            ExecutionException waited = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS),
                    "a request waiting for a slot is answered at once, not when a slot frees");
            assertInstanceOf(EngineBusyException.class, waited.getCause());
            release.countDown();
            other.cancel();
            Generation rest = running.collect();
            assertEquals(FinishReason.LENGTH, rest.done().reason(), "the running reply ran to its end");
            assertEquals(200, rest.done().completionTokens());
            assertTrue(drained.get(1, TimeUnit.MINUTES), "drained before the timeout");
            assertEquals(0, engine.stats().running());
        }
    }

    @Test
    void aDrainCancelsWhatIsStillRunningAtItsTimeout() throws Exception {
        try (Engine engine = test.engine(OPTIONS)) {
            TokenStream running = holdTheSlot(engine);
            long started = System.nanoTime();
            assertFalse(engine.drain(Duration.ofMillis(300)), "the reply could not finish in time");
            assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(300));
            assertEquals(FinishReason.CANCELLED, running.collect().done().reason());
            assertEquals(0, engine.stats().running());
        }
    }

    @Test
    void anErrorThatStopsTheEngineThreadFailsEveryOpenReplyAndLeavesADeadEngine() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ForwardingModel failing = new ForwardingModel(test.model()) {
            @Override
            protected void beforeStep(List<Segment> segments) {
                if (calls.incrementAndGet() == 20) {
                    throw new InternalError("device lost"); // an exception would fail the step's requests only
                }
            }
        };
        try (Engine engine = new Engine(failing, test.tokenizer(), OPTIONS, EngineMetrics.NONE)) {
            TokenStream first = holdTheSlot(engine), second = holdTheSlot(engine);
            for (TokenStream stream : List.of(first, second)) {
                GenerationEvent last;
                do {
                    last = stream.next();
                } while (last instanceof Token);
                assertEquals("device lost", assertInstanceOf(Error.class, last).cause().getMessage());
            }
            Engine.Health health = engine.health();
            assertEquals(Engine.State.DEAD, health.state());
            assertFalse(health.live(Duration.ofMinutes(1)), "liveness fails");
            assertEquals("device lost", health.failure().getMessage());
            assertEquals(0, engine.stats().running(), "the slots went back");
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> engine.submit(request(4)));
            assertTrue(refused.getMessage().startsWith("the engine died"), refused.getMessage());
        }
    }

    @Test
    void aStepThatHangsFailsLivenessAndAnIdleEngineKeepsItsHeartbeat() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        ForwardingModel hanging = new ForwardingModel(test.model()) {
            @Override
            protected void beforeStep(List<Segment> segments) {
                if (calls.incrementAndGet() == 5) {
                    PreemptionTest.await(release);
                }
            }
        };
        try (Engine engine = new Engine(hanging, test.tokenizer(), OPTIONS, EngineMetrics.NONE)) {
            Thread.sleep(Scheduler.HEARTBEAT.multipliedBy(3).toMillis());
            // polled, since a stall of this machine can outlast the margin; a thread that stopped beating stays not live
            awaitUntil(() -> engine.health().live(Scheduler.HEARTBEAT.multipliedBy(2)));

            TokenStream stream = engine.submit(request(20));
            awaitUntil(() -> calls.get() >= 5);
            Thread.sleep(MAX_SILENCE.multipliedBy(2).toMillis());
            Engine.Health stuck = engine.health();
            assertTrue(stuck.threadAlive() && stuck.state() == Engine.State.RUNNING, stuck.toString());
            assertFalse(stuck.live(MAX_SILENCE), "a step stuck past the silence limit is not live: " + stuck);

            release.countDown();
            assertEquals(FinishReason.LENGTH, stream.collect().done().reason());
            awaitUntil(() -> engine.health().live(MAX_SILENCE));
        }
    }

    private static TokenStream submit(Engine engine, GenerationRequest request) {
        try {
            return engine.submit(request);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean drain(Engine engine, Duration timeout) {
        try {
            return engine.drain(timeout);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitState(Engine engine, Engine.State state) throws InterruptedException {
        awaitUntil(() -> engine.health().state() == state);
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        AdmissionTest.awaitUntil(Duration.ofSeconds(10), condition, () -> "timed out");
    }
}
