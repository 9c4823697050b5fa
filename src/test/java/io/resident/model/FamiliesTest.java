package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every family against Hugging Face transformers in float32 (fixtures made by src/test/python/make_fixtures.py):
 * logits of the first steps within 1e-4, 32 greedy ids identical, with chunked prefill and batched decode.
 */
class FamiliesTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "llama-mqa-tiny", "qwen2-tiny", "mistral-tiny", "qwen2-bf16-tiny"})
    void matchesTransformers(String name) {
        Path dir = Fixtures.own(name);
        JsonNode prompts = Fixtures.json(dir.resolve("golden.json")).get("prompts");
        try (CausalLM model = Paged.load(dir, "cpu", "auto", 2, 64)) {
            Greedy.Run run = Greedy.run(model, Fixtures.intLists(prompts, "prompt_ids"), 5, 32);
            JsonNode expected = prompts.get(0).get("logits_first_steps");
            for (int step = 0; step < expected.size(); step++) {
                float[] want = Fixtures.floats(expected.get(step));
                float[] got = run.logits().get(0).get(step);
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4, name + " step " + step + " logit " + i);
                }
            }
            List<int[]> ids = Fixtures.intLists(prompts, "output_ids");
            for (int i = 0; i < ids.size(); i++) {
                assertArrayEquals(ids.get(i), run.ids().get(i), name + " prompt " + i);
            }
        }
    }
}
