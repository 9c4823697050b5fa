package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every family against Hugging Face transformers in float32 (fixtures made by src/test/python/make_fixtures.py):
 * logits of the first steps within 1e-4, 32 greedy ids identical, with chunked prefill and batched decode.
 */
class FamiliesTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3-tiny", "llama-mqa-tiny", "qwen2-tiny", "mistral-tiny", "qwen2-bf16-tiny",
            "qwen2-bf16-massive-tiny"})
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

    /** The massive bf16 fixture, which float32 computes as transformers does, overflows float16: its hidden states pass 65,504. */
    @Test
    void float16OverflowsOnTheMassiveFixture() {
        Path dir = Fixtures.own("qwen2-bf16-massive-tiny");
        JsonNode prompts = Fixtures.json(dir.resolve("golden.json")).get("prompts");
        try (CausalLM model = Paged.load(dir, "cpu", "float16", 2, 64)) {
            Greedy.Run run = Greedy.run(model, Fixtures.intLists(prompts, "prompt_ids"), 5, 32);
            List<int[]> ids = Fixtures.intLists(prompts, "output_ids");
            for (int i = 0; i < ids.size(); i++) {
                assertTrue(prompts.get(i).get("largest_hidden").asDouble() > 65504, "prompt " + i);
                float[] first = run.logits().get(i).get(0);
                assertFalse(IntStream.range(0, first.length).allMatch(v -> Float.isFinite(first[v])), "prompt " + i + " logits finite");
                assertFalse(Arrays.equals(ids.get(i), run.ids().get(i)), "prompt " + i + " ids equal the reference's");
            }
        }
    }
}
