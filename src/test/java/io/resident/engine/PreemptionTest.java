package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM.Segment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * When blocks run out mid-reply, the newest sequence gives its blocks back and is recomputed later (its prompt plus
 * what it generated, as one prompt): every reply is token for token the one it gives undisturbed, sampled ones too.
 */
class PreemptionTest {

    @Test
    void preemptedRepliesAreRecomputedIntoTheRepliesTheyGiveUndisturbed() throws Exception {
        Random random = new Random(11);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SamplingParams params = i == 1
                    ? SamplingParams.builder().temperature(0.9).topP(0.95).repetitionPenalty(1.1).seed(5L).maxTokens(80).ignoreEos(true).build()
                    : SamplingParams.builder().temperature(0).maxTokens(80).ignoreEos(true).build();
            requests.add(new GenerationRequest(random.ints(20 + 7 * i, 3, 1000).toArray(), params));
        }
        AtomicInteger preemptions = new AtomicInteger();
        EngineMetrics counting = new EngineMetrics() {
            @Override
            public void preempted() {
                preemptions.incrementAndGet();
            }
        };
        // 8 blocks of 16: each reply grows to 7, so that any two running together run out
        try (TestModel test = TestModel.load("qwen2-tiny", 1, 128)) {
            List<int[]> undisturbed = new ArrayList<>();
            try (Engine alone = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 16, false))) {
                for (GenerationRequest request : requests) {
                    undisturbed.add(alone.generate(request).tokenIds());
                }
            }
            CountDownLatch allSubmitted = new CountDownLatch(1);
            ForwardingModel gated = new ForwardingModel(test.model()) {
                @Override
                protected void beforeStep(List<Segment> segments) {
                    await(allSubmitted); // the first step waits until every request is in the engine's inbox
                }
            };
            try (Engine engine = new Engine(gated, test.tokenizer(), new EngineOptions(3, 8, Duration.ofMinutes(1), 16, true), counting)) {
                List<TokenStream> streams = new ArrayList<>();
                for (GenerationRequest request : requests) {
                    streams.add(engine.submit(request));
                }
                allSubmitted.countDown();
                for (int i = 0; i < streams.size(); i++) {
                    Generation reply = streams.get(i).collect();
                    assertArrayEquals(undisturbed.get(i), reply.tokenIds(), "request " + i);
                    assertEquals(80, reply.done().completionTokens());
                }
                assertTrue(preemptions.get() > 0, "blocks ran out and a sequence was preempted");
                engine.verifyKvCache();
                assertEquals(0, engine.stats().kvBlocksUsed());
            }
        }
    }

    static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
