package io.resident.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.model.Fixtures;
import java.nio.file.Path;

/** The tiny ChatGLM3 fixture and its golden file (transformers' Glm, the same function as THUDM's code). */
final class TinyChatGLM {

    private TinyChatGLM() {}

    static Path dir() {
        return Fixtures.own("chatglm3-6b-tiny");
    }

    /** The golden conversations: prompt_ids, output_ids (greedy) and logits_first_steps. */
    static JsonNode conversations() {
        return Fixtures.json(dir().resolve("golden.json")).get("conversations");
    }

    static int[] ints(JsonNode array) {
        return Fixtures.ints(array);
    }

    static float[] floats(JsonNode array) {
        return Fixtures.floats(array);
    }
}
