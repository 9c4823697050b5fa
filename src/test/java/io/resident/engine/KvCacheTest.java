package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM.Footprint;
import io.resident.model.CausalLM.Segment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The KV-cache pool is allocated whole when the model loads and never grows; the context is at most the pool, so a
 * prompt that could never fit is refused before it runs.
 */
class KvCacheTest {

    private static final int SLOTS = 4;
    private static final int CONTEXT = 128;
    private static final List<String> FAMILIES = TestModel.FAMILIES;

    @ParameterizedTest
    @FieldSource("FAMILIES")
    void everySlotHoldsTheCacheOfAFullContextFromTheStart(String family) {
        long one, all, weights;
        long perToken;
        try (TestModel test = TestModel.load(family, 1, CONTEXT)) {
            one = test.model().footprint().bytes();
            weights = test.model().parameterCount() * Float.BYTES;
            perToken = KvCacheSizing.bytesPerToken(test.model().config(), Float.BYTES);
        }
        try (TestModel test = TestModel.load(family, SLOTS, CONTEXT)) {
            all = test.model().footprint().bytes();
        }
        assertEquals((SLOTS - 1) * CONTEXT * perToken, all - one, "each further slot adds a full context's keys and values");
        assertTrue(one >= weights + CONTEXT * perToken, "the weights and one slot's cache are held");
    }

    @Test
    void aPromptThatCanNeverFitThePoolIsRefusedBeforeItRuns() throws Exception {
        try (TestModel test = TestModel.load("qwen2-tiny", 1, CONTEXT)) {
            ForwardingModel small = new ForwardingModel(test.model()) {
                @Override
                protected void beforeStep(List<Segment> segments) {}

                @Override
                public int blocks() {
                    return 4; // 64 positions of the model's 128
                }
            };
            try (Engine engine = new Engine(small, test.tokenizer(), new EngineOptions(1, 8, Duration.ofMinutes(1), 64, true),
                    EngineMetrics.NONE)) {
                assertEquals(64, engine.maxContext());
                var refused = assertThrows(IllegalArgumentException.class,
                        () -> engine.submit(new GenerationRequest(new int[64], SamplingParams.greedy(1))));
                assertTrue(refused.getMessage().contains("the context holds 64"), refused.getMessage());
                Generation longest = engine.generate(new GenerationRequest(new int[63], SamplingParams.greedy(CONTEXT)));
                assertEquals(FinishReason.LENGTH, longest.done().reason());
                assertEquals(1, longest.done().completionTokens(), "the reply ends at the pool's last position");
                assertTrue(engine.health().live(Duration.ofMinutes(1)));
            }
        }
    }

    @Test
    void fillingEverySlotToTheLastPositionAddsNothing() throws Exception {
        try (TestModel test = TestModel.load("qwen2-tiny", SLOTS, CONTEXT);
                Engine engine = test.engine(new EngineOptions(SLOTS, 8, Duration.ofMinutes(1), 64, true))) {
            Footprint loaded = test.model().footprint();
            List<TokenStream> replies = new ArrayList<>();
            for (int slot = 0; slot < SLOTS; slot++) {
                replies.add(engine.submit(new GenerationRequest(new int[] {5 + slot, 6, 7}, SamplingParams.greedy(CONTEXT))));
            }
            for (TokenStream reply : replies) {
                Generation generation = reply.collect();
                assertEquals(FinishReason.LENGTH, generation.done().reason(), "these prompts meet no stop id");
                assertEquals(CONTEXT - 3, generation.done().completionTokens());
            }
            assertEquals(loaded, test.model().footprint(), "arrays and bytes after filling every slot");
        }
    }
}
