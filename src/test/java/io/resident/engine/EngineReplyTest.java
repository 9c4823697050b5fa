package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.model.CausalLM;
import io.resident.model.ModelLoader;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

/** A whole reply through the engine, past its first token, against THUDM's own greedy output. */
class EngineReplyTest {

    @Test
    void greedyReplyThroughTheEngineEqualsTheReference() throws Exception {
        try (CausalLM model = ModelLoader.load(TinyChatGLM.dir(), "cpu", "float32", 2, 256);
                Tokenizer tokenizer = Tokenizers.load(TinyChatGLM.dir());
                Engine engine = new Engine(model, tokenizer, new EngineOptions(4, java.time.Duration.ofSeconds(30), 16),
                        EngineMetrics.NONE)) {
            for (JsonNode conversation : TinyChatGLM.conversations()) {
                int[] expected = TinyChatGLM.ints(conversation.get("output_ids"));
                Generation reply = engine.generate(new GenerationRequest(
                        TinyChatGLM.ints(conversation.get("prompt_ids")), SamplingParams.greedy(expected.length)));
                assertArrayEquals(expected, reply.tokenIds());
                assertEquals(FinishReason.LENGTH, reply.done().reason());
                assertEquals(expected.length, reply.done().completionTokens());
            }
            // the slot is given back just after the Done event reaches the reader
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (engine.stats().running() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, engine.stats().running());
        }
    }
}
