package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.CausalLM;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Steps budgeted in tokens: three replies decode (the fixture's golden prompts), then two long prompts arrive. Every
 * step stays within the budget, every decoding reply gets its token in every step, the prompts share what the
 * decodes leave (the older one first, the budget used whole while a prompt is pending), and every reply is token
 * for token the one it gives alone on an engine whose steps carry a whole chunk beside the decodes.
 */
class StepBudgetTest {

    private static final int SLOTS = 6;
    private static final int CONTEXT = 128;
    private static final int CHUNK = 64;
    private static final int BUDGET = 16;
    private static final int DECODERS = 3;
    private static final List<String> FAMILIES = TestModel.FAMILIES;

    @ParameterizedTest
    @FieldSource("FAMILIES")
    void decodingRepliesStepEveryTimeWhileLongPromptsShareTheRestOfTheBudget(String family) throws Exception {
        try (TestModel test = TestModel.load(family, SLOTS, CONTEXT)) {
            ContinuousBatchingTest.Golden golden = ContinuousBatchingTest.golden(test.name());
            int decoders = Math.min(DECODERS, golden.prompts().size());
            Random random = new Random(family.hashCode());
            List<GenerationRequest> requests = new ArrayList<>();
            for (int i = 0; i < decoders; i++) {
                requests.add(new GenerationRequest(golden.prompts().get(i), SamplingParams.greedy(32)));
            }
            int vocab = test.model().config().vocabSize();
            GenerationRequest older = new GenerationRequest(random.ints(92, 3, vocab).toArray(), SamplingParams.greedy(8));
            GenerationRequest newer = new GenerationRequest(random.ints(37, 3, vocab).toArray(), SamplingParams.greedy(8));
            requests.addAll(List.of(older, newer));

            List<Generation> alone = new ArrayList<>();
            try (Engine engine = test.engine(new EngineOptions(SLOTS, 8, Duration.ofMinutes(1), CHUNK, false))) {
                for (GenerationRequest request : requests) {
                    alone.add(engine.generate(request));
                }
            }

            Gated model = new Gated(test.model(), requests, decoders);
            List<TokenStream> streams = new ArrayList<>();
            try (Engine engine = new Engine(model, test.tokenizer(),
                    new EngineOptions(SLOTS, 8, Duration.ofMinutes(1), CHUNK, BUDGET, false), EngineMetrics.NONE)) {
                for (GenerationRequest request : requests.subList(0, decoders)) {
                    streams.add(engine.submit(request));
                }
                model.decodersAdmitted.countDown();
                assertTrue(model.allDecoding.await(1, TimeUnit.MINUTES), "the replies never decoded together");
                streams.add(engine.submit(older));
                streams.add(engine.submit(newer));
                model.promptsAdmitted.countDown();
                for (int i = 0; i < requests.size(); i++) {
                    Generation together = streams.get(i).collect();
                    assertArrayEquals(alone.get(i).tokenIds(), together.tokenIds(), family + " request " + i);
                    if (i < decoders) {
                        assertArrayEquals(golden.outputs().get(i), together.tokenIds(), family + " golden prompt " + i);
                    }
                }
            }
            model.assertBudgeted(alone);
        }
    }

    /**
     * The real model, with every call's segments written down; it holds the first call until the decoding replies are
     * all admitted, and the first call in which they all decode until the long prompts are.
     */
    private static final class Gated extends ForwardingModel {
        final CountDownLatch decodersAdmitted = new CountDownLatch(1), allDecoding = new CountDownLatch(1),
                promptsAdmitted = new CountDownLatch(1);
        final List<List<Segment>> calls = new CopyOnWriteArrayList<>();
        private final List<GenerationRequest> requests;
        private final int decoders;
        /** The request whose sequence holds a first block, from its first chunk on (no prefix cache: one holder). */
        private final Map<Integer, Integer> requestOfBlock = new HashMap<>();
        private int promptsArrive = -1;

        Gated(CausalLM model, List<GenerationRequest> requests, int decoders) {
            super(model);
            this.requests = requests;
            this.decoders = decoders;
        }

        @Override
        protected void beforeStep(List<Segment> segments) {
            try {
                if (calls.isEmpty()) {
                    decodersAdmitted.await();
                }
                calls.add(List.copyOf(segments));
                for (Segment s : segments) {
                    if (s.startPosition() == 0) {
                        requestOfBlock.put(s.blocks()[0], startedBy(s));
                    }
                }
                if (promptsArrive < 0 && segments.size() == decoders && segments.stream().allMatch(this::decodes)) {
                    promptsArrive = calls.size();
                    allDecoding.countDown();
                    promptsAdmitted.await();
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        private int request(Segment s) {
            return requestOfBlock.get(s.blocks()[0]);
        }

        private boolean decodes(Segment s) {
            return s.startPosition() >= requests.get(request(s)).promptIds().length;
        }

        private int startedBy(Segment first) {
            for (int r = 0; r < requests.size(); r++) {
                int[] prompt = requests.get(r).promptIds();
                if (!requestOfBlock.containsValue(r) && prompt.length >= first.tokens().length
                        && Arrays.equals(first.tokens(), Arrays.copyOf(prompt, first.tokens().length))) {
                    return r;
                }
            }
            throw new AssertionError("a sequence started with a chunk no request begins with");
        }

        /** Replays the calls from the one the long prompts arrived after. */
        void assertBudgeted(List<Generation> replies) {
            int olderRequest = decoders, newerRequest = decoders + 1;
            Map<Integer, Integer> prefilled = new HashMap<>(Map.of(olderRequest, 0, newerRequest, 0));
            int shared = 0;
            for (int i = 0; i < calls.size(); i++) {
                List<Segment> call = calls.get(i);
                int tokens = call.stream().mapToInt(s -> s.tokens().length).sum();
                // a call where nothing decodes keeps nobody waiting: it may take a whole chunk
                int limit = call.stream().anyMatch(this::decodes) ? BUDGET : CHUNK;
                assertTrue(tokens <= limit, "call " + i + " holds " + tokens + " tokens, past the limit of " + limit);
                for (Segment s : call) {
                    int r = request(s), end = s.startPosition() + s.tokens().length;
                    int generated = end - requests.get(r).promptIds().length + 1;
                    if (generated > 0 && generated < replies.get(r).done().completionTokens()) {
                        assertTrue(i + 1 < calls.size() && calls.get(i + 1).stream()
                                        .anyMatch(n -> n.blocks()[0] == s.blocks()[0] && n.startPosition() == end),
                                "request " + r + " decodes after call " + i + " but the next call does not decode it");
                    }
                }
                if (i < promptsArrive) {
                    continue;
                }
                List<Segment> prompts = call.stream().filter(s -> !decodes(s)).toList();
                for (Segment s : prompts) {
                    prefilled.merge(request(s), s.tokens().length, Integer::sum);
                }
                int olderLeft = requests.get(olderRequest).promptIds().length - prefilled.get(olderRequest);
                int newerLeft = requests.get(newerRequest).promptIds().length - prefilled.get(newerRequest);
                if (prompts.stream().anyMatch(s -> request(s) == newerRequest)) {
                    assertEquals(0, olderLeft, "call " + i + " prefills the newer prompt before the older one is in");
                }
                if (olderLeft + newerLeft > 0) {
                    assertEquals(BUDGET, tokens, "call " + i + " leaves budget unused while a prompt waits");
                }
                shared += prompts.size() == 2 ? 1 : 0;
            }
            assertEquals(1, shared, "the two prompts share the call in which the older one's prompt ends");
            assertEquals(List.of(0, 0), List.of(requests.get(olderRequest).promptIds().length - prefilled.get(olderRequest),
                    requests.get(newerRequest).promptIds().length - prefilled.get(newerRequest)));
        }
    }
}
