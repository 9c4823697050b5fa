package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
import io.resident.model.CausalLM;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Output processing runs on its own thread, a step behind the engine: many replies at once still get their events
 * in order with one end, last, and a stop string still ends its reply where it appears, with nothing after it, and
 * its sequence generates at most one token past it.
 * Greedy requests with fixed lengths (ignore_eos), so each reply is the one it gives alone.
 */
class OutputThreadTest {

    private static final int SLOTS = 8;
    private static final int CONTEXT = 96;
    private static final int REQUESTS = 24;
    private static final int REPLY = 24;

    private static TestModel test;
    private static List<int[]> prompts;

    @BeforeAll
    static void load() {
        test = TestModel.load("qwen2-tiny", SLOTS, CONTEXT);
        Random random = new Random(3);
        prompts = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            prompts.add(random.ints(3 + random.nextInt(30), 3, 1000).toArray());
        }
    }

    @AfterAll
    static void close() {
        test.close();
    }

    @Test
    void everyReplysEventsComeInOrderWithOneEndLast() throws Exception {
        List<Reply> alone = new ArrayList<>();
        List<Reply> together;
        try (Engine engine = engine()) {
            for (int i = 0; i < REQUESTS; i++) {
                alone.add(read(engine.submit(request(i, List.of()))));
            }
            together = all(engine, i -> request(i, List.of()));
        }
        for (int i = 0; i < REQUESTS; i++) {
            Reply a = alone.get(i), b = together.get(i);
            assertEquals(a.ids(), b.ids(), "request " + i + " ids in order");
            assertEquals(a.texts(), b.texts(), "request " + i + " texts in order");
            assertEquals(FinishReason.LENGTH, b.done().reason(), "request " + i);
            assertEquals(1 + i % REPLY, b.ids().size(), "request " + i);
            assertEquals(b.ids().size(), b.done().completionTokens(), "request " + i);
            assertEquals(0, b.stream().unread(), "request " + i + ": nothing after its end");
        }
    }

    @Test
    void aStopStringEndsItsReplyWithNothingAfterIt() throws Exception {
        List<Reply> alone = new ArrayList<>();
        List<String> stops = new ArrayList<>();
        List<Reply> together;
        AtomicInteger picks = new AtomicInteger();
        CausalLM counting = new ForwardingModel(test.model()) {
            @Override
            protected void beforeStep(List<Segment> segments) {
                picks.addAndGet((int) segments.stream().filter(s -> s.pick() != null).count());
            }
        };
        try (Engine engine = new Engine(counting, test.tokenizer(), options(), EngineMetrics.NONE)) {
            for (int i = 0; i < REQUESTS; i++) {
                Reply reply = read(engine.submit(full(i, List.of())));
                alone.add(reply);
                String text = String.join("", reply.texts()) + reply.done().tail();
                stops.add(text.substring(text.length() / 2, text.length() / 2 + 2));
            }
            picks.set(0);
            together = all(engine, i -> full(i, List.of(stops.get(i))));
        }
        int shown = 0;
        for (int i = 0; i < REQUESTS; i++) {
            Reply a = alone.get(i), b = together.get(i);
            String text = String.join("", a.texts()) + a.done().tail();
            String before = text.substring(0, text.indexOf(stops.get(i)));
            int tokens = 1;
            while (!String.join("", a.texts().subList(0, tokens)).contains(stops.get(i))) {
                tokens++;
            }
            String got = String.join("", b.texts()) + b.done().tail();
            assertEquals(before, got, "request " + i + " stops at \"" + stops.get(i) + "\"");
            assertEquals(FinishReason.STOP, b.done().reason(), "request " + i);
            assertEquals(a.ids().subList(0, tokens), b.ids(), "request " + i + ": no token after the stop's");
            assertEquals(tokens, b.done().completionTokens(), "request " + i);
            assertEquals(0, b.stream().unread(), "request " + i + ": nothing after its end");
            shown += tokens;
        }
        // every token is one pick (top_logprobs makes greedy ones pick too): at most one past each stop was generated
        assertTrue(picks.get() >= shown && picks.get() <= shown + REQUESTS, picks + " picks for " + shown + " tokens shown");
    }

    /** A reply's events as read: token ids and texts in order, then its end. */
    private record Reply(List<Integer> ids, List<String> texts, Done done, TokenStream stream) {}

    private static Engine engine() {
        return test.engine(options());
    }

    private static EngineOptions options() {
        return new EngineOptions(SLOTS, REQUESTS, Duration.ofMinutes(1), 16, true);
    }

    private static GenerationRequest request(int i, List<String> stop) {
        return new GenerationRequest(prompts.get(i),
                SamplingParams.builder().temperature(0).ignoreEos(true).maxTokens(1 + i % REPLY).stop(stop).build());
    }

    private static GenerationRequest full(int i, List<String> stop) {
        return new GenerationRequest(prompts.get(i), SamplingParams.builder().temperature(0).ignoreEos(true).maxTokens(REPLY)
                .stop(stop).topLogprobs(1).build());
    }

    /** Every request submitted at once, each read on its own virtual thread. */
    private static List<Reply> all(Engine engine, IntFunction<GenerationRequest> request) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                GenerationRequest r = request.apply(i);
                replies.add(threads.submit(() -> read(engine.submit(r))));
            }
            List<Reply> out = new ArrayList<>();
            for (Future<Reply> reply : replies) {
                out.add(reply.get());
            }
            return out;
        }
    }

    private static Reply read(TokenStream stream) throws InterruptedException {
        List<Integer> ids = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        while (true) {
            GenerationEvent event = stream.next();
            if (event instanceof Token token) {
                ids.add(token.id());
                texts.add(token.text());
            } else {
                return new Reply(ids, texts, assertInstanceOf(Done.class, event), stream);
            }
        }
    }
}
