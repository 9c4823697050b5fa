package io.resident.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.model.Fixtures;
import java.nio.file.Path;

/** The shared tiny ChatGLM3 fixture (made with THUDM's own code) and its golden file. */
final class TinyChatGLM {

    private TinyChatGLM() {}

    static Path dir() {
        return Fixtures.shared("chatglm3-6b-tiny");
    }

    /** The golden conversations: prompt_ids, output_ids (greedy) and logits_first_steps. */
    static JsonNode conversations() {
        return Fixtures.json(Fixtures.shared("chatglm3-6b-tiny-golden.json")).get("conversations");
    }

    static int[] ints(JsonNode array) {
        return Fixtures.ints(array);
    }

    static float[] floats(JsonNode array) {
        return Fixtures.floats(array);
    }
}
