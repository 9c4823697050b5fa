package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM.Footprint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The KV cache is allocated whole when the model loads, for every slot at the full context, and never grows. */
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
