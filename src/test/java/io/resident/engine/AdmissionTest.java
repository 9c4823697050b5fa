package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Admission through the slot semaphore: a request waits for a slot in arrival order, for at most the configured
 * time, behind at most the configured number of others; past either bound it is busy at once, with a retry hint.
 */
class AdmissionTest {

    /** Waiter i's prompt begins with this id plus i; the slot holder's does not. */
    private static final int FIRST_WAITER_TOKEN = 20;

    private static TestModel test;

    @BeforeAll
    static void load() {
        test = TestModel.load("qwen2-tiny", 1, 2048);
    }

    @AfterAll
    static void close() {
        test.close();
    }

    @Test
    void oneMoreThanMaxWaitingIsBusyAtOnce() throws Exception {
        try (Engine engine = test.engine(new EngineOptions(1, 2, Duration.ofMinutes(1), 64, true))) {
            TokenStream holder = holdTheSlot(engine);
            List<CompletableFuture<TokenStream>> waiters = List.of(waiter(engine), waiter(engine));
            awaitWaiting(engine, 2);

            long started = System.nanoTime();
            EngineBusyException busy = assertThrows(EngineBusyException.class, () -> engine.submit(request(4)));
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "busy without waiting for the minute of maxWait");
            assertTrue(busy.getMessage().contains("2 requests are already waiting"), busy.getMessage());
            assertTrue(busy.retryAfter().compareTo(Duration.ZERO) > 0);
            assertEquals(2, engine.stats().waiting(), "the busy request did not join the queue");

            holder.cancel();
            for (CompletableFuture<TokenStream> waiter : waiters) {
                assertEquals(FinishReason.LENGTH, waiter.get(1, TimeUnit.MINUTES).collect().done().reason());
            }
            assertEquals(new Engine.Stats(1, 0, 0, 0, 2048 / 16), engine.stats());
        }
    }

    @Test
    void aRequestWaitingLongerThanMaxWaitIsBusy() throws Exception {
        Duration maxWait = Duration.ofMillis(300);
        try (Engine engine = test.engine(new EngineOptions(1, 8, maxWait, 64, true))) {
            TokenStream holder = holdTheSlot(engine);
            long started = System.nanoTime();
            EngineBusyException busy = assertThrows(EngineBusyException.class, () -> engine.submit(request(4)));
            long waited = System.nanoTime() - started;
            assertTrue(waited >= maxWait.toNanos() && waited < maxWait.toNanos() + TimeUnit.SECONDS.toNanos(5),
                    "waited " + waited / 1_000_000 + " ms");
            assertTrue(busy.getMessage().contains("no slot freed up within PT0.3S"), busy.getMessage());
            assertEquals(0, engine.stats().waiting());
            assertEquals(1, engine.stats().running(), "the slot stayed with its holder");
            holder.cancel();
            assertEquals(FinishReason.CANCELLED, holder.collect().done().reason());
        }
    }

    @Test
    void waitingRequestsAreAdmittedInArrivalOrder() throws Exception {
        // the engine thread writes down which waiter each first chunk begins, so the order is the engine's own
        List<Integer> admitted = new CopyOnWriteArrayList<>();
        ForwardingModel recorder = new ForwardingModel(test.model()) {
            @Override
            protected void beforeStep(List<Segment> segments) {
                segments.stream().filter(s -> s.startPosition() == 0 && s.tokens()[0] >= FIRST_WAITER_TOKEN)
                        .forEach(s -> admitted.add(s.tokens()[0] - FIRST_WAITER_TOKEN));
            }
        };
        try (Engine engine = new Engine(recorder, test.tokenizer(), new EngineOptions(1, 8, Duration.ofMinutes(1), 64, true), EngineMetrics.NONE)) {
            TokenStream holder = holdTheSlot(engine);
            List<CompletableFuture<TokenStream>> waiters = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                CompletableFuture<TokenStream> reply = new CompletableFuture<>();
                GenerationRequest request = new GenerationRequest(new int[] {FIRST_WAITER_TOKEN + i, 6, 7}, SamplingParams.greedy(2));
                Thread waiter = Thread.startVirtualThread(() -> {
                    try {
                        reply.complete(engine.submit(request));
                    } catch (Throwable e) {
                        reply.completeExceptionally(e);
                    }
                });
                waiters.add(reply);
                awaitWaiting(engine, i + 1);
                awaitParked(waiter);
            }
            holder.cancel();
            for (CompletableFuture<TokenStream> waiter : waiters) {
                assertEquals(FinishReason.LENGTH, waiter.get(1, TimeUnit.MINUTES).collect().done().reason());
            }
            assertEquals(List.of(0, 1, 2, 3, 4), admitted);
        }
    }

    @Test
    void anInterruptedWaiterLeavesTheQueueWithoutASlot() throws Exception {
        try (Engine engine = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 64, true))) {
            TokenStream holder = holdTheSlot(engine);
            CompletableFuture<TokenStream> waiter = new CompletableFuture<>();
            Thread thread = Thread.startVirtualThread(() -> {
                try {
                    waiter.complete(engine.submit(request(4)));
                } catch (Throwable e) {
                    waiter.completeExceptionally(e);
                }
            });
            awaitWaiting(engine, 1);
            thread.interrupt();
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiter.get(1, TimeUnit.MINUTES));
            assertTrue(e.getCause() instanceof InterruptedException, String.valueOf(e.getCause()));
            assertEquals(0, engine.stats().waiting());
            holder.cancel();
            holder.collect();
            assertEquals(FinishReason.LENGTH, engine.generate(request(4)).done().reason(), "the slot is free again");
        }
    }

    /** A reply that runs until cancelled or the context of 2048 ends: no stop id ends it. */
    static TokenStream holdTheSlot(Engine engine) throws InterruptedException {
        return engine.submit(new GenerationRequest(new int[] {5, 6, 7},
                SamplingParams.builder().temperature(0).ignoreEos(true).build()));
    }

    static GenerationRequest request(int maxTokens) {
        return new GenerationRequest(new int[] {5, 6, 7}, SamplingParams.greedy(maxTokens));
    }

    private static CompletableFuture<TokenStream> waiter(Engine engine) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return engine.submit(request(4));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, Thread::startVirtualThread);
    }

    /** Waits until the thread is parked, which a waiter is only once it has joined the slot queue. */
    private static void awaitParked(Thread waiter) throws InterruptedException {
        awaitUntil(Duration.ofSeconds(10), () -> waiter.getState() == Thread.State.TIMED_WAITING,
                () -> "the waiter never queued for the slot: " + waiter.getState());
    }

    static void awaitWaiting(Engine engine, int waiting) throws InterruptedException {
        awaitUntil(Duration.ofSeconds(10), () -> engine.stats().waiting() == waiting, () -> "never " + waiting + " waiting: " + engine.stats());
    }

    /** Polls the condition until it holds, failing with what {@code failure} says once {@code within} has passed. */
    static void awaitUntil(Duration within, BooleanSupplier condition, Supplier<String> failure) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(5);
        }
    }
}
