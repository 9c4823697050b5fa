package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM;
import io.resident.model.CausalLM.Segment;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The step measured at startup, and the model's pool allocated after it, as ModelHolder does on every device. */
class LargestStepTest {

    private static final int CONTEXT = 128;
    private static final List<String> FAMILIES = TestModel.FAMILIES;

    @Test
    void theBudgetsTokensPaddedAQuarterMoreAttendOverTheWholeContextInASmallPool() {
        LargestStep step = LargestStep.of(512, 8192, 16);
        assertEquals(List.of(320, 192), step.segments().stream().map(s -> s.tokens().length).toList());
        assertEquals(640, step.rows(), "padded to the longer, the most padding the model lets a prefill batch carry");
        assertTrue(8 * 320 <= 5 * 512, "the model pads them as one batch");
        Set<Integer> written = new HashSet<>();
        for (Segment s : step.segments()) {
            assertEquals(8192 - 320, s.startPosition());
            assertEquals(8192 / 16, s.blocks().length, "its table covers the whole context");
            for (int i = s.startPosition() / 16; i <= (s.startPosition() + s.tokens().length - 1) / 16; i++) {
                assertTrue(written.add(s.blocks()[i]), "block " + s.blocks()[i] + " written twice");
            }
        }
        assertEquals(20 + 12, step.blocks(), "a pool of the written blocks alone");
        assertEquals(written, Set.copyOf(java.util.stream.IntStream.range(0, step.blocks()).boxed().toList()));
    }

    @ParameterizedTest
    @FieldSource("FAMILIES")
    void aModelRunsItInASmallPoolThenServesTheReferenceFromThePoolAllocatedAfter(String family) throws Exception {
        try (TestModel test = TestModel.load(family, 4, CONTEXT)) {
            CausalLM model = test.model();
            CausalLM.Footprint loaded = model.footprint();
            LargestStep step = LargestStep.of(64, CONTEXT, model.blockSize());
            model.allocateCache(step.blocks());
            assertEquals(step.blocks(), model.blocks());
            assertEquals(2, model.step(step.segments()).size());

            model.allocateCache(4 * CONTEXT / model.blockSize());
            assertEquals(loaded, model.footprint(), "the temporary pool is given back");
            ContinuousBatchingTest.Golden golden = ContinuousBatchingTest.golden(test.name());
            try (Engine engine = test.engine(new EngineOptions(4, 8, Duration.ofMinutes(1), 16, 32, true))) {
                for (int i = 0; i < golden.prompts().size(); i++) {
                    Generation reply = engine.generate(new GenerationRequest(golden.prompts().get(i), SamplingParams.greedy(32)));
                    assertArrayEquals(golden.outputs().get(i), reply.tokenIds(), family + " golden prompt " + i);
                }
            }
        }
    }
}
