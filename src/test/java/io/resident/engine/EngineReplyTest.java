package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.model.CausalLM;
import io.resident.model.Paged;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole reply through the engine, past its first token, against the reference's greedy output. */
class EngineReplyTest {

    @Test
    void greedyReplyThroughTheEngineEqualsTheReference() throws Exception {
        try (CausalLM model = Paged.load(TinyChatGLM.dir(), "cpu", "float32", 2, 256);
                Tokenizer tokenizer = Tokenizers.load(TinyChatGLM.dir());
                Engine engine = new Engine(model, tokenizer, new EngineOptions(2, 4, java.time.Duration.ofSeconds(30), 16, true),
                        EngineMetrics.NONE)) {
            for (JsonNode conversation : TinyChatGLM.conversations()) {
                int[] expected = TinyChatGLM.ints(conversation.get("output_ids"));
                Generation reply = engine.generate(new GenerationRequest(
                        TinyChatGLM.ints(conversation.get("prompt_ids")), SamplingParams.greedy(expected.length)));
                assertArrayEquals(expected, reply.tokenIds());
                assertEquals(FinishReason.LENGTH, reply.done().reason());
                assertEquals(expected.length, reply.done().completionTokens());
            }
            assertEquals(0, engine.stats().running());
        }
    }

    @Test
    void aStopIdEndsTheReplyUnlessIgnoreEosIsSet(@TempDir Path dir) throws Exception {
        try (Stream<Path> files = Files.list(TinyChatGLM.dir())) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        JsonNode conversation = TinyChatGLM.conversations().get(0);
        int[] expected = TinyChatGLM.ints(conversation.get("output_ids"));
        // the reference's fourth token becomes a stop id of this copy
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [2, " + expected[3] + "]}");
        int[] prompt = TinyChatGLM.ints(conversation.get("prompt_ids"));
        try (CausalLM model = Paged.load(dir, "cpu", "float32", 1, 128);
                Tokenizer tokenizer = Tokenizers.load(dir);
                Engine engine = new Engine(model, tokenizer)) {
            Generation stopped = engine.generate(new GenerationRequest(prompt, SamplingParams.greedy(expected.length)));
            assertEquals(FinishReason.STOP, stopped.done().reason());
            assertEquals(4, stopped.done().completionTokens());
            assertArrayEquals(Arrays.copyOf(expected, 3), stopped.tokenIds());

            Generation all = engine.generate(new GenerationRequest(prompt,
                    SamplingParams.builder().temperature(0).maxTokens(expected.length).ignoreEos(true).build()));
            assertEquals(FinishReason.LENGTH, all.done().reason());
            assertArrayEquals(expected, all.tokenIds());
        }
    }
}
