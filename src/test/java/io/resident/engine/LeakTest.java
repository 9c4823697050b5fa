package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import io.resident.model.CausalLM.Footprint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Rounds of a thousand requests that end every way a request can end (read to the end, cancelled before or after
 * their first token, a reader that goes away and cancels, a reader that goes away without a word, an interrupted
 * caller, busy) leave the engine as they found it: no live native array beyond the model's own, no native memory
 * growth, every slot free, and the KV-cache pool and prefix-cache index consistent throughout. Half the prompts open with one of a
 * few shared prefixes, and the pool holds half of what the batch could fill, so that blocks are reused from the
 * cache, evicted, and taken back by preemption all along.
 */
class LeakTest {

    private static final int REQUESTS = 1_000;
    /** Rounds of REQUESTS, each measured on its own. */
    private static final int ROUNDS = 2;
    private static final int CLIENTS = 22;
    private static final int SLOTS = 8;
    private static final int CONTEXT = 64;
    /** Blocks of 16 for four full contexts. */
    private static final int POOL_SLOTS = 4;
    private static final int[][] PREFIXES = {ids(32, 1), ids(32, 2), ids(32, 3)};
    private static final Duration BACKOFF = Duration.ofMillis(100);

    enum Ending { READ, CANCEL_AT_ONCE, CANCEL_AFTER_TOKENS, DISCONNECT, ABANDON, INTERRUPT }

    enum Outcome { COMPLETED, CANCELLED, INTERRUPTED, BUSY }

    @Test
    void thousandRequestsEndingEveryWayLeaveNothingBehind() throws Exception {
        try (TestModel test = TestModel.load("qwen2-tiny", POOL_SLOTS, CONTEXT);
                Engine engine = test.engine(new EngineOptions(SLOTS, 12, Duration.ofMillis(500), 8, true))) {
            run(engine, 200, 1); // warm-up: the JIT, the heap and the allocator reach their working size
            awaitIdle(engine);
            everySlotSamplesWithPenaltiesAtOnce(engine);
            Footprint arrays = test.model().footprint();
            long[] inUse = new long[ROUNDS + 1];
            inUse[0] = NativeMemory.inUse();

            Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
            for (int round = 1; round <= ROUNDS; round++) {
                run(engine, REQUESTS, 1 + round).forEach((outcome, count) -> outcomes.merge(outcome, count.sum(), Long::sum));
                awaitIdle(engine);
                assertEquals(new Engine.Stats(SLOTS, 0, 0, 0, POOL_SLOTS * CONTEXT / 16), engine.stats(), "slots, queue and KV cache");
                engine.verifyKvCache();
                assertEquals(arrays, test.model().footprint(), "live native arrays and their bytes");
                inUse[round] = NativeMemory.inUse();
            }
            for (Outcome outcome : Outcome.values()) {
                assertTrue(outcomes.get(outcome) > 0, "no request ended " + outcome + ": " + outcomes);
            }
            // a leak grows in every round alike; the JVM's own native parts (JIT, Netty's buffers of a Quarkus app of
            // other tests) step by up to tens of MiB once, in one round. About 3,000 steps run a round, so a tensor of
            // 6 KiB kept per step (one sequence's logits are 4 KiB) or 16 KiB per request shows in both
            long grown = IntStream.rangeClosed(1, ROUNDS).mapToLong(r -> inUse[r] - inUse[r - 1]).min().orElseThrow();
            assertTrue(grown < 16L << 20, "native memory grew by at least " + grown / 1024 + " KiB in each round: " + Arrays.toString(inUse));
            assertEverySlotIsFree(engine);
        }
    }

    /** Requests from CLIENTS virtual threads, each ending as a seeded draw says, until this many were taken in (busy ones aside). */
    private static Map<Outcome, LongAdder> run(Engine engine, int requests, long seed) throws Exception {
        Map<Outcome, LongAdder> outcomes = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, new LongAdder());
        }
        AtomicInteger ended = new AtomicInteger();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            running.add(clients.submit(() -> {
                while (ended.get() < requests) {
                    engine.verifyKvCache(); // between two steps, against the block tables of every live sequence
                    Thread.sleep(20);
                }
                return null;
            }));
            for (int c = 0; c < CLIENTS; c++) {
                Random random = new Random(seed * 1000 + c);
                running.add(clients.submit(() -> {
                    while (ended.get() < requests) {
                        Outcome outcome = request(engine, random);
                        outcomes.get(outcome).increment();
                        if (outcome != Outcome.BUSY) {
                            ended.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> client : running) {
                client.get();
            }
        }
        return outcomes;
    }

    private static int[] ids(int length, long seed) {
        return new Random(seed).ints(length, 3, 1000).toArray();
    }

    private static Outcome request(Engine engine, Random random) throws Exception {
        int[] own = random.ints(3 + random.nextInt(40), 3, 1000).toArray();
        int[] prompt = random.nextBoolean() ? own : IntStream.concat(
                Arrays.stream(PREFIXES[random.nextInt(PREFIXES.length)]), Arrays.stream(own)).limit(CONTEXT - 17).toArray();
        SamplingParams params = random.nextBoolean() ? SamplingParams.greedy(1 + random.nextInt(16))
                : SamplingParams.builder().temperature(0.8).topP(0.9).repetitionPenalty(1.1).presencePenalty(0.2)
                        .seed(random.nextLong()).maxTokens(1 + random.nextInt(16)).build();
        GenerationRequest request = new GenerationRequest(prompt, params);
        Ending ending = Ending.values()[random.nextInt(Ending.values().length)];
        int readFirst = random.nextInt(6);
        if (ending == Ending.INTERRUPT) {
            return interrupted(engine, request, random.nextInt(3_000));
        }
        TokenStream stream;
        try {
            stream = engine.submit(request);
        } catch (EngineBusyException e) {
            Thread.sleep(BACKOFF); // as a client that honours Retry-After, only sooner
            return Outcome.BUSY;
        }
        switch (ending) {
            case READ -> {
                return outcome(readToEnd(stream));
            }
            case CANCEL_AT_ONCE -> {
                stream.cancel();
                return outcome(readToEnd(stream));
            }
            case CANCEL_AFTER_TOKENS -> {
                read(stream, readFirst);
                stream.cancel();
                return outcome(readToEnd(stream));
            }
            case DISCONNECT -> {
                read(stream, readFirst);
                stream.cancel(); // what a socket's close handler does; nobody reads on
                return Outcome.CANCELLED;
            }
            default -> {
                read(stream, readFirst); // ABANDON: the reader is gone and says nothing; the reply runs to its end
                return Outcome.COMPLETED;
            }
        }
    }

    /** The caller's thread is interrupted after some microseconds: while it waits for a slot, or while it reads. */
    private static Outcome interrupted(Engine engine, GenerationRequest request, int micros) throws Exception {
        Thread caller = Thread.currentThread();
        Thread interrupter = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(Duration.ofNanos(micros * 1000L));
            } catch (InterruptedException e) {
                return;
            }
            caller.interrupt();
        });
        try {
            return engine.generate(request).done().reason() == FinishReason.CANCELLED ? Outcome.CANCELLED : Outcome.COMPLETED;
        } catch (InterruptedException e) {
            return Outcome.INTERRUPTED;
        } catch (EngineBusyException e) {
            return Outcome.BUSY;
        } finally {
            joinIgnoringInterrupts(interrupter);
            Thread.interrupted();
        }
    }

    /** The interrupt may land after the request ended, while this thread waits for the interrupter. */
    private static void joinIgnoringInterrupts(Thread thread) {
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                // meant for the request, which is over
            }
        }
    }

    private static void read(TokenStream stream, int tokens) throws InterruptedException {
        for (int i = 0; i < tokens && stream.next() instanceof Token; i++) {
            // reading on
        }
    }

    private static Done readToEnd(TokenStream stream) throws InterruptedException {
        while (true) {
            switch (stream.next()) {
                case Token ignored -> {}
                case Done done -> {
                    return done;
                }
                case Error error -> throw new AssertionError("generation failed", error.cause());
            }
        }
    }

    private static Outcome outcome(Done done) {
        return done.reason() == FinishReason.CANCELLED ? Outcome.CANCELLED : Outcome.COMPLETED;
    }

    /** Abandoned replies run on to their max_tokens; wait for the last of them. */
    private static void awaitIdle(Engine engine) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (engine.stats().running() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    /**
     * The sampler's history buffers grow to the most sequences with penalties live at once, at most one a slot: a
     * size the warm-up's draws need not reach, so every slot holds one here before anything is measured.
     */
    private static void everySlotSamplesWithPenaltiesAtOnce(Engine engine) throws InterruptedException {
        List<TokenStream> streams = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            streams.add(engine.submit(new GenerationRequest(new int[] {7, 8, 9 + i}, SamplingParams.builder()
                    .temperature(0.8).repetitionPenalty(1.1).ignoreEos(true).seed((long) i).maxTokens(16).build())));
        }
        for (TokenStream stream : streams) {
            assertEquals(16, readToEnd(stream).completionTokens());
        }
    }

    /** All slots are taken at once without waiting, and given back. */
    private static void assertEverySlotIsFree(Engine engine) throws InterruptedException {
        List<TokenStream> streams = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            streams.add(engine.submit(new GenerationRequest(new int[] {7, 8, 9}, SamplingParams.greedy(CONTEXT))));
        }
        assertEquals(SLOTS, engine.stats().running());
        assertEquals(0, engine.stats().waiting());
        for (TokenStream stream : streams) {
            stream.cancel();
            readToEnd(stream);
        }
        assertEquals(0, engine.stats().running());
    }

    /**
     * Native memory in use: the bytes glibc's malloc has handed out and not had back (mallinfo2: in-use chunks of
     * every arena plus directly mapped ones). libtorch's CPU tensors, the tokenizers and the JVM's own native parts
     * all allocate there; the Java heap does not. Unlike the resident set, it does not move with pages the allocator
     * or the kernel keep or drop, so a tensor that is never freed shows even where DJL's bookkeeping does not see it.
     */
    static final class NativeMemory {

        @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"})
        public static final class MallInfo2 extends Structure implements Structure.ByValue {
            public long arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
        }

        interface LibC extends Library {
            LibC INSTANCE = Native.load("c", LibC.class);

            MallInfo2 mallinfo2();
        }

        static long inUse() {
            MallInfo2 info = LibC.INSTANCE.mallinfo2();
            return info.uordblks + info.hblkhd;
        }
    }
}
