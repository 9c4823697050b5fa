package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.engine.GenerationEvent.Alternative;
import io.resident.model.CausalLM;
import io.resident.model.CausalLM.Pick;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine's side of sampling: what each step asks the device for, and the reference's greedy tokens. */
class SamplerTest {

    private static float[][] steps;
    private static int[] greedyIds;

    @BeforeAll
    static void readGolden() {
        JsonNode first = TinyChatGLM.conversations().get(0);
        JsonNode rows = first.get("logits_first_steps");
        steps = new float[rows.size()][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = TinyChatGLM.floats(rows.get(i));
        }
        greedyIds = TinyChatGLM.ints(first.get("output_ids"));
    }

    @Test
    void greedyPicksTheReferenceTokens() {
        Sampler sampler = sampler(SamplingParams.greedy(10));
        for (int step = 0; step < steps.length; step++) {
            assertEquals(greedyIds[step], sampler.next(CausalLM.Scores.of(steps[step])).id(), "step " + step);
        }
    }

    @Test
    void onlyPlainGreedyGoesWithoutAPick() {
        assertNull(sampler(SamplingParams.greedy(10)).pick());
        assertEquals(0f, sampler(SamplingParams.builder().temperature(0).topLogprobs(2).build()).pick().temperature());
        assertNotNull(sampler(SamplingParams.builder().temperature(0).repetitionPenalty(1.3).build()).pick().history());
        Pick pick = sampler(SamplingParams.builder().temperature(0.7).topK(5).topP(0.9).minP(0.1).build()).pick();
        assertEquals(List.of(0.7f, 5, 0.9f, 0.1f), List.of(pick.temperature(), pick.topK(), pick.topP(), pick.minP()));
        assertNull(pick.history(), "no penalties, no ids on the device");
    }

    @Test
    void aSeedFixesTheUniformsAndRequestsWithoutOneDrawFromTheEngine() {
        SamplingParams seeded = SamplingParams.builder().temperature(1.2).topP(0.95).seed(42L).build();
        assertArrayEquals(uniforms(seeded, new Random(1)), uniforms(seeded, new Random(2)));
        assertNotEquals(Arrays.toString(uniforms(seeded, new Random(1))),
                Arrays.toString(uniforms(SamplingParams.builder().temperature(1.2).seed(43L).build(), new Random(1))));
        SamplingParams unseeded = SamplingParams.builder().temperature(1.2).build();
        assertArrayEquals(uniforms(unseeded, new Random(7)), uniforms(unseeded, new Random(7)));
        assertNotEquals(Arrays.toString(uniforms(unseeded, new Random(7))), Arrays.toString(uniforms(unseeded, new Random(8))));
    }

    @Test
    void theDevicesChoiceIsTheChoice() {
        Sampler sampler = sampler(SamplingParams.builder().temperature(0.9).topLogprobs(2).build());
        Sampler.Choice choice = sampler.next(new CausalLM.Scores(4, 2f, 3.0, null,
                new CausalLM.Picked(7, -1.5f, new int[] {4, 7}, new float[] {-1f, -1.5f})));
        assertEquals(new Sampler.Choice(7, -1.5f, List.of(new Alternative(4, -1f), new Alternative(7, -1.5f))), choice);
    }

    @Test
    void badSettingsAreRefusedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(0).build());
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().maxTokens(0).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().stop(List.of("")).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topLogprobs(21).build());
    }

    private static Sampler sampler(SamplingParams params) {
        return new Sampler(params, new int[] {1}, null, new Random(0));
    }

    private static float[] uniforms(SamplingParams params, Random engine) {
        Sampler sampler = new Sampler(params, new int[] {1}, null, engine);
        float[] out = new float[16];
        for (int i = 0; i < out.length; i++) {
            out[i] = sampler.pick().uniform();
        }
        return out;
    }
}
