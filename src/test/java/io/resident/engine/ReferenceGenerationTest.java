package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.model.CausalLM;
import io.resident.model.Paged;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replies through the whole engine (admission, chunked prefill beside running decodes, sampling, stop checks,
 * streaming text) against the greedy reference for the tiny ChatGLM3 fixture.
 */
class ReferenceGenerationTest {

    private static final int PREFILL_CHUNK = 4;

    private static SegmentRecorder model;
    private static Tokenizer tokenizer;
    private static Engine engine;
    private static JsonNode conversations;

    @BeforeAll
    static void start() {
        conversations = TinyChatGLM.conversations();
        model = new SegmentRecorder(Paged.load(TinyChatGLM.dir(), "cpu", "auto", 3, 256));
        tokenizer = Tokenizers.load(TinyChatGLM.dir());
        engine = new Engine(model, tokenizer, new EngineOptions(3, 16, Duration.ofSeconds(30), PREFILL_CHUNK, true), EngineMetrics.NONE);
    }

    @AfterAll
    static void stop() {
        engine.close();
        tokenizer.close();
        model.close();
    }

    @Test
    void concurrentGreedyRepliesEqualTheReferenceWithPromptsPrefilledInSmallChunks() throws Exception {
        List<Future<Generation>> replies = new ArrayList<>();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (JsonNode c : conversations) {
                replies.add(callers.submit(() -> engine.generate(new GenerationRequest(TinyChatGLM.ints(c.get("prompt_ids")),
                        SamplingParams.greedy(32)))));
            }
        }
        for (int i = 0; i < replies.size(); i++) {
            JsonNode c = conversations.get(i);
            Generation reply = replies.get(i).get();
            assertArrayEquals(TinyChatGLM.ints(c.get("output_ids")), reply.tokenIds(), "conversation " + i);
            assertEquals(c.get("raw_text").asText(), reply.text(), "conversation " + i);
            assertEquals(FinishReason.LENGTH, reply.done().reason());
            assertEquals(c.get("prompt_ids").size(), reply.done().promptTokens());
            assertEquals(32, reply.done().completionTokens());
        }
        // prompts of 9 to 70 tokens reached the model 4 positions at a time: a score matrix is at most 4 x context
        assertEquals(PREFILL_CHUNK, model.longestSegment.get());
    }

    @Test
    void maxTokensCutsTheReplyWithFinishReasonLength() throws Exception {
        JsonNode c = conversations.get(0);
        Generation reply = engine.generate(new GenerationRequest(TinyChatGLM.ints(c.get("prompt_ids")), SamplingParams.greedy(5)));
        assertArrayEquals(Arrays.copyOf(TinyChatGLM.ints(c.get("output_ids")), 5), reply.tokenIds());
        assertEquals(FinishReason.LENGTH, reply.done().reason());
    }

    @Test
    void aStopStringEndsTheTextJustBeforeIt() throws Exception {
        JsonNode c = conversations.get(0);
        String reference = c.get("raw_text").asText();
        String stop = reference.substring(8, 10);
        assertTrue(stop.codePoints().allMatch(Character::isLetter), "a plain stop string: " + stop);
        Generation reply = engine.generate(new GenerationRequest(TinyChatGLM.ints(c.get("prompt_ids")),
                SamplingParams.builder().temperature(0).maxTokens(32).stop(List.of(stop)).build()));
        assertEquals(reference.substring(0, reference.indexOf(stop)), reply.text());
        assertEquals(FinishReason.STOP, reply.done().reason());
        assertTrue(reply.tokenIds().length < 32);
    }

    @Test
    void theSameSeedGivesTheSameSampledReply() throws Exception {
        int[] prompt = TinyChatGLM.ints(conversations.get(1).get("prompt_ids"));
        SamplingParams.Builder sampled = SamplingParams.builder().temperature(0.9).topP(0.9).topK(40).maxTokens(24);
        int[] first = engine.generate(new GenerationRequest(prompt, sampled.seed(7L).build())).tokenIds();
        int[] again = engine.generate(new GenerationRequest(prompt, sampled.seed(7L).build())).tokenIds();
        int[] other = engine.generate(new GenerationRequest(prompt, sampled.seed(8L).build())).tokenIds();
        assertArrayEquals(first, again);
        assertNotEquals(Arrays.toString(first), Arrays.toString(other));
    }

    /** The model, noting the longest segment the scheduler hands it. */
    private static final class SegmentRecorder extends ForwardingModel {
        private final AtomicInteger longestSegment = new AtomicInteger();

        SegmentRecorder(CausalLM model) {
            super(model);
        }

        @Override
        protected void beforeStep(List<Segment> segments) {
            segments.forEach(s -> longestSegment.accumulateAndGet(s.tokens().length, Math::max));
        }
    }
}
