package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM;
import io.resident.model.ModelConfig;
import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo model's replies are words (noise, but visibly text), sampled by default and greedy alike. */
class DemoModelTest {

    /** Twenty-four tokens, each a lowercase word with its leading space or a punctuation mark. */
    private static final String WORDS = "( [a-z]{2,}|[.,;!?]){24}";

    private static Tokenizer tokenizer;
    private static ModelConfig config;
    private static CausalLM model;
    private static Engine engine;
    private static int[] prompt;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizers.load(DemoModel.tokenizerDirectory());
        config = DemoModel.config(tokenizer);
        model = DemoModel.load(config, tokenizer, "cpu", "float32", 256 / KvCacheSizing.BLOCK_SIZE, 256); // one context of blocks
        engine = new Engine(model, tokenizer);
        prompt = tokenizer.chatPrompt(List.of(new Message("user", "Hello! Who are you?")));
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
        tokenizer.close();
    }

    @Test
    void samplesAtTemperature08ByDefault() {
        assertEquals(0.8, SamplingParams.builder(config.generation()).build().temperature());
    }

    @Test
    void aSampledReplyIsVariedWords() throws Exception {
        SamplingParams params = SamplingParams.builder(config.generation()).maxTokens(24).seed(1L).ignoreEos(true).build();
        String text = engine.generate(new GenerationRequest(prompt, params)).text();
        assertTrue(text.matches(WORDS), text);
        assertTrue(Arrays.stream(text.trim().split("[ .,;!?]+")).distinct().count() > 12, "varied words: " + text);
    }

    @Test
    void aGreedyReplyIsWordsToo() throws Exception {
        String text = engine.generate(new GenerationRequest(prompt, SamplingParams.builder().temperature(0).maxTokens(24)
                .ignoreEos(true).build())).text();
        assertTrue(text.matches(WORDS), text);
    }
}
