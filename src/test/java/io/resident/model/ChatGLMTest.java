package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ChatGLM3 against transformers' Glm (the same function as THUDM's code) in float32: the chatglm3-6b-tiny fixture's golden file. */
class ChatGLMTest {

    private static CausalLM model;
    private static JsonNode conversations;

    @BeforeAll
    static void load() {
        Path dir = Fixtures.own("chatglm3-6b-tiny");
        conversations = Fixtures.json(dir.resolve("golden.json")).get("conversations");
        model = Paged.load(dir, "cpu", "auto", 3, 256);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void readsTheChatGLMConfig() {
        ModelConfig c = model.config();
        assertEquals("chatglm", c.family());
        assertEquals(List.of(1024, 64, 2, 4, 2, 16, 96, 8192), List.of(c.vocabSize(), c.hiddenSize(), c.layers(), c.heads(),
                c.kvHeads(), c.headDim(), c.intermediateSize(), c.maxPositions()));
        assertEquals(8, c.rotaryDim());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(List.of(2), c.eosTokenIds());
        // embedding + output layer + final norm + 2 x (qkv W, qkv b, dense, h->4h, 4h->h, 2 norms)
        assertEquals(2 * 1024 * 64 + 64 + 2 * (128 * 64 + 128 + 64 * 64 + 192 * 64 + 64 * 96 + 2 * 64), model.parameterCount());
    }

    @Test
    void firstLogitsMatchTheReference() {
        JsonNode first = conversations.get(0);
        Greedy.Run run = Greedy.run(model, List.of(Fixtures.ints(first.get("prompt_ids"))), 64, 5);
        JsonNode expected = first.get("logits_first_steps");
        for (int step = 0; step < expected.size(); step++) {
            float[] want = Fixtures.floats(expected.get(step));
            float[] got = run.logits().get(0).get(step);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-4, "step " + step + " logit " + i);
            }
        }
    }

    @Test
    void greedyIdsMatchWithChunkedPrefillAndBatchedDecode() {
        List<int[]> prompts = Fixtures.intLists(conversations, "prompt_ids");
        List<int[]> expected = Fixtures.intLists(conversations, "output_ids");
        assertTrue(prompts.stream().mapToInt(p -> p.length).distinct().count() > 1, "slots of different lengths");
        // chunks of 7 tokens: later chunks start past 0 and attend to the cached prefix
        Greedy.Run run = Greedy.run(model, prompts, 7, 32);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected.get(i), run.ids().get(i), "conversation " + i);
        }
    }
}
