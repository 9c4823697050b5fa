package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Automatic prefix caching: full blocks of 16 positions are reused by any prompt that starts with the same tokens,
 * prompt or generated, and by no other; the reply is token for token the one computed without the cache.
 */
class PrefixCacheTest {

    private static final int BLOCK = 16;
    private static final List<String> FAMILIES = List.of("llama3-tiny", "llama-mqa-tiny", "qwen2-tiny", "mistral-tiny", "qwen2-bf16-tiny");
    private static Tokenizer demoTokenizer;

    @ParameterizedTest
    @FieldSource("FAMILIES")
    void chunkedPagedAndCachedPrefillGiveTheReferenceIds(String family) throws Exception {
        ContinuousBatchingTest.Golden golden = ContinuousBatchingTest.golden(family);
        try (TestModel test = TestModel.load(family, 4, 128);
                Engine engine = test.engine(new EngineOptions(4, 8, Duration.ofMinutes(1), 8, true))) {
            // both golden prompts at once, in chunks of 8: their blocks interleave in the pool
            List<TokenStream> first = golden.prompts().stream().map(p -> submit(engine, p, 32)).toList();
            for (int i = 0; i < first.size(); i++) {
                assertArrayEquals(golden.outputs().get(i), first.get(i).collect().tokenIds(), family + " golden " + i);
            }
            for (int i = 0; i < golden.prompts().size(); i++) {
                int[] prompt = golden.prompts().get(i), output = golden.outputs().get(i);
                Generation again = engine.generate(new GenerationRequest(prompt, SamplingParams.greedy(32)));
                assertArrayEquals(output, again.tokenIds(), family + " golden " + i + " again");
                assertEquals((prompt.length - 1) / BLOCK * BLOCK, again.done().cachedTokens(), "its full blocks came from the cache");

                // the prompt plus 28 of its reply's ids reads the blocks the reply filled, and goes on as the reference
                int[] longer = IntStream.concat(Arrays.stream(prompt), Arrays.stream(output, 0, 28)).toArray();
                Generation rest = engine.generate(new GenerationRequest(longer, SamplingParams.greedy(4)));
                assertArrayEquals(Arrays.copyOfRange(output, 28, 32), rest.tokenIds(), family + " golden " + i + " continued");
                assertEquals((longer.length - 1) / BLOCK * BLOCK, rest.done().cachedTokens(), "blocks of generated ids are reused too");
            }
            engine.verifyKvCache();
        }
    }

    @Test
    void turnTwoOfAChatReusesEveryFullBlockOfTurnOne() throws Exception {
        try (TestModel test = demo();
                Engine engine = test.engine(new EngineOptions(2, 8, Duration.ofMinutes(1), 64, true))) {
            List<Message> turn1 = List.of(new Message("system", "You are a terse assistant who answers in one line."),
                    new Message("user", "Name three rivers of Europe and the seas they flow into."));
            int[] prompt1 = test.tokenizer().chatPrompt(turn1);
            Generation reply = engine.generate(new GenerationRequest(prompt1, SamplingParams.greedy(24)));
            List<Message> turn2 = List.of(turn1.get(0), turn1.get(1), new Message("assistant", reply.text()),
                    new Message("user", "And which of them is the longest?"));
            int[] prompt2 = test.tokenizer().chatPrompt(turn2);
            Generation second = engine.generate(new GenerationRequest(prompt2, SamplingParams.greedy(8)));
            assertTrue(prompt1.length >= 2 * BLOCK, "turn 1 fills blocks: " + prompt1.length);
            assertTrue(second.done().cachedTokens() >= prompt1.length / BLOCK * BLOCK,
                    second.done().cachedTokens() + " cached of turn 1's " + prompt1.length);
            assertEquals(commonPrefix(prompt1, prompt2) / BLOCK * BLOCK, Math.min(second.done().cachedTokens(),
                    commonPrefix(prompt1, prompt2) / BLOCK * BLOCK), "nothing past what the turns share is reused");
            assertArrayEquals(uncached(test, prompt2, 8), second.tokenIds(), "the same reply as without the cache");
        }
    }

    @Test
    void conversationsWithTheSameSystemPromptShareItsBlocksAndNothingElse() throws Exception {
        try (TestModel test = demo();
                Engine engine = test.engine(new EngineOptions(2, 8, Duration.ofMinutes(1), 64, true))) {
            Message system = new Message("system", "You are the help desk of a library. Answer questions about opening hours,"
                    + " loans, renewals, fees and the reading rooms, politely and in at most two sentences.");
            int[] alice = test.tokenizer().chatPrompt(List.of(system, new Message("user", "When do you open on Sundays?")));
            int[] bob = test.tokenizer().chatPrompt(List.of(system, new Message("user", "Can I renew a loan online?")));
            int shared = commonPrefix(alice, bob);
            assertTrue(shared >= 2 * BLOCK, "the system prompt spans blocks: " + shared);
            engine.generate(new GenerationRequest(alice, SamplingParams.greedy(4)));
            Generation second = engine.generate(new GenerationRequest(bob, SamplingParams.greedy(8)));
            assertEquals(shared / BLOCK * BLOCK, second.done().cachedTokens(), "the full blocks of the shared system prompt");
            assertArrayEquals(uncached(test, bob, 8), second.tokenIds());
        }
    }

    @Test
    void aCacheHitNeverCrossesConversationsThatDifferInOneEarlyToken() throws Exception {
        int[] original = new Random(3).ints(64, 3, 1000).toArray();
        try (TestModel test = TestModel.load("qwen2-tiny", 2, 128);
                Engine engine = test.engine(new EngineOptions(2, 8, Duration.ofMinutes(1), 64, true))) {
            engine.generate(new GenerationRequest(original, SamplingParams.greedy(4)));
            for (int changed : new int[] {3, 20, 40}) {
                int[] other = original.clone();
                other[changed] = original[changed] + 1;
                Generation reply = engine.generate(new GenerationRequest(other, SamplingParams.greedy(6)));
                assertEquals(changed / BLOCK * BLOCK, reply.done().cachedTokens(), "token " + changed + " differs: nothing after it is reused");
                assertArrayEquals(uncached(test, other, 6), reply.tokenIds(), "token " + changed);
            }
        }
    }

    @Test
    void underPressureTheLeastRecentlyUsedBlocksAreEvictedTailFirst() throws Exception {
        Random random = new Random(5);
        int[] a = random.ints(33, 3, 1000).toArray(), b = random.ints(33, 3, 1000).toArray(), c = random.ints(97, 3, 1000).toArray();
        // 8 blocks: a and b leave two cached blocks each, then c takes 7: the four free ones and a's two and b's tail
        try (TestModel test = TestModel.load("qwen2-tiny", 1, 128);
                Engine engine = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 128, true))) {
            Generation firstA = engine.generate(new GenerationRequest(a, SamplingParams.greedy(1)));
            Generation firstB = engine.generate(new GenerationRequest(b, SamplingParams.greedy(1)));
            engine.generate(new GenerationRequest(c, SamplingParams.greedy(1)));
            Generation againB = engine.generate(new GenerationRequest(b, SamplingParams.greedy(1)));
            Generation againA = engine.generate(new GenerationRequest(a, SamplingParams.greedy(1)));
            assertEquals(BLOCK, againB.done().cachedTokens(), "b's head block outlived its tail");
            assertEquals(0, againA.done().cachedTokens(), "a's blocks, used least recently, were evicted");
            assertArrayEquals(firstA.tokenIds(), againA.tokenIds());
            assertArrayEquals(firstB.tokenIds(), againB.tokenIds());
            engine.verifyKvCache();
            assertEquals(0, engine.stats().kvBlocksUsed());
        }
    }

    @Test
    void turnedOffNothingIsReused() throws Exception {
        int[] prompt = new Random(9).ints(40, 3, 1000).toArray();
        try (TestModel test = TestModel.load("qwen2-tiny", 1, 128);
                Engine engine = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 64, false))) {
            engine.generate(new GenerationRequest(prompt, SamplingParams.greedy(2)));
            assertEquals(0, engine.generate(new GenerationRequest(prompt, SamplingParams.greedy(2))).done().cachedTokens());
        }
    }

    /** The demo model: random weights behind Qwen3's real tokenizer and chat template. */
    private static TestModel demo() {
        if (demoTokenizer == null) {
            demoTokenizer = Tokenizers.load(DemoModel.tokenizerDirectory()); // seconds to load: once for the class
        }
        return new TestModel("demo", DemoModel.load(DemoModel.config(demoTokenizer), demoTokenizer, "cpu", "auto", 64, 1024), demoTokenizer);
    }

    /** The reply of an engine without the cache, on the same model. */
    private static int[] uncached(TestModel test, int[] prompt, int maxTokens) throws Exception {
        try (Engine engine = test.engine(new EngineOptions(1, 8, Duration.ofMinutes(1), 64, false))) {
            return engine.generate(new GenerationRequest(prompt, SamplingParams.greedy(maxTokens))).tokenIds();
        }
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    private static TokenStream submit(Engine engine, int[] prompt, int maxTokens) {
        try {
            return engine.submit(new GenerationRequest(prompt, SamplingParams.greedy(maxTokens)));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
