package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.resident.model.GenerationDefaults;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A checkpoint's generation_config.json as the starting point of a request's sampling. */
class SamplingParamsTest {

    @Test
    void sampledDefaultsWhenTheCheckpointSetsDoSample() {
        var qwen = new GenerationDefaults(List.of(151645, 151643), true, 0.7, 20, 0.8, 1.05, 0);
        SamplingParams params = SamplingParams.builder(qwen).build();
        assertEquals(0.7, params.temperature());
        assertEquals(20, params.topK());
        assertEquals(0.8, params.topP());
        assertEquals(1.05, params.repetitionPenalty());
        assertEquals(Integer.MAX_VALUE, params.maxTokens());
    }

    @Test
    void greedyWithoutDoSampleAndARequestOverridesTheDefaults() {
        var plain = new GenerationDefaults(List.of(2), false, 0.8, 50, 0.9, 1.0, 128);
        SamplingParams defaults = SamplingParams.builder(plain).build();
        assertEquals(0, defaults.temperature());
        assertEquals(128, defaults.maxTokens());
        SamplingParams overridden = SamplingParams.builder(plain).temperature(0.5).maxTokens(7).build();
        assertEquals(0.5, overridden.temperature());
        assertEquals(7, overridden.maxTokens());
    }
}
