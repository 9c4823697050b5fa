package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.engine.GenerationEvent.Token;
import io.resident.model.CausalLM;
import io.resident.model.Fixtures;
import io.resident.model.ModelConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Many requests at once through one engine give what each gives alone, in every family: 16 requests of different
 * prompt lengths, max_tokens and sampling settings on 12 slots, their prompts prefilled in chunks shorter than
 * the prompts while the others decode, so that slots are shared, reused, and every kind of step runs.
 */
class ContinuousBatchingTest {

    private static final int SLOTS = 12;
    private static final int CONTEXT = 128;
    private static final int CHUNK = 16;
    private static final List<String> FAMILIES = TestModel.FAMILIES;

    @ParameterizedTest
    @FieldSource("FAMILIES")
    void concurrentRepliesEqualTheReplyEachGivesAlone(String family) throws Exception {
        try (TestModel test = TestModel.load(family, SLOTS, CONTEXT)) {
            Steps steps = new Steps(test.model());
            List<GenerationRequest> requests = requests(test.name(), test.model().config());
            List<Generation> alone = new ArrayList<>();
            try (Engine engine = new Engine(steps, test.tokenizer(), new EngineOptions(SLOTS, 64, Duration.ofMinutes(1), CHUNK, false), EngineMetrics.NONE)) {
                for (GenerationRequest request : requests) {
                    alone.add(engine.generate(request));
                }
                steps.calls.clear();
                List<Generation> together = together(engine, requests);
                for (int i = 0; i < requests.size(); i++) {
                    assertSame(alone.get(i), together.get(i), family + " request " + i);
                }
                assertEquals(0, engine.stats().running());
                steps.assertEveryRunningSequenceStepsEachTime(requests, together);
            }
            // the golden prompts come first: alone, each gives what transformers gives
            List<int[]> golden = golden(test.name()).outputs();
            for (int i = 0; i < golden.size(); i++) {
                assertArrayEquals(golden.get(i), alone.get(i).tokenIds(), family + " golden prompt " + i);
            }
            assertEquals(FinishReason.LENGTH, alone.get(requests.size() - 1).done().reason());
            assertEquals(CONTEXT - requests.get(requests.size() - 1).promptIds().length,
                    alone.get(requests.size() - 1).done().completionTokens(), "the last request runs into the context end");
        }
    }

    /** Golden prompts, then random prompts of 3 to 100 tokens; every fourth samples with its own seed; the last fills the context. */
    private static List<GenerationRequest> requests(String name, ModelConfig config) {
        Random random = new Random(name.hashCode());
        List<GenerationRequest> requests = new ArrayList<>();
        for (int[] prompt : golden(name).prompts()) {
            requests.add(new GenerationRequest(prompt, SamplingParams.greedy(32)));
        }
        int[] lengths = {3, 100, 17, 45, 8, 64, 29, 5, 81, 12, 38, 23, 57};
        for (int i = 0; requests.size() < 15; i++) {
            int[] prompt = random.ints(lengths[i], 3, config.vocabSize()).toArray();
            int maxTokens = 1 + random.nextInt(Math.min(40, CONTEXT - prompt.length));
            SamplingParams params = i % 4 == 3
                    ? SamplingParams.builder().temperature(0.9).topK(40).topP(0.95).minP(0.02).repetitionPenalty(1.1)
                            .frequencyPenalty(0.5).presencePenalty(0.3).topLogprobs(3).seed((long) i).maxTokens(maxTokens).build()
                    : SamplingParams.greedy(maxTokens);
            requests.add(new GenerationRequest(prompt, params));
        }
        requests.add(new GenerationRequest(random.ints(CONTEXT - 20, 3, config.vocabSize()).toArray(), SamplingParams.greedy(100)));
        return requests;
    }

    /** Every request submitted at once, each on its own virtual thread. */
    private static List<Generation> together(Engine engine, List<GenerationRequest> requests) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Generation>> replies = new ArrayList<>();
            for (GenerationRequest request : requests) {
                replies.add(threads.submit(() -> engine.generate(request)));
            }
            List<Generation> out = new ArrayList<>();
            for (Future<Generation> reply : replies) {
                out.add(reply.get());
            }
            return out;
        }
    }

    /** Same ids, text and ending; log-probabilities equal up to float rounding of differently shaped batches. */
    private static void assertSame(Generation alone, Generation together, String what) {
        assertArrayEquals(alone.tokenIds(), together.tokenIds(), what + " ids");
        assertEquals(alone.text(), together.text(), what + " text");
        assertEquals(alone.done().reason(), together.done().reason(), what + " finish reason");
        assertEquals(alone.done().completionTokens(), together.done().completionTokens(), what + " completion tokens");
        for (int i = 0; i < alone.tokens().size(); i++) {
            Token a = alone.tokens().get(i), b = together.tokens().get(i);
            assertEquals(a.logprob(), b.logprob(), 1e-4, what + " logprob " + i);
            assertEquals(a.top().stream().map(GenerationEvent.Alternative::id).toList(),
                    b.top().stream().map(GenerationEvent.Alternative::id).toList(), what + " alternatives " + i);
        }
    }

    record Golden(List<int[]> prompts, List<int[]> outputs) {}

    /** The fixture's golden prompts and transformers' greedy ids (32 each). */
    static Golden golden(String name) {
        try {
            JsonNode root = new ObjectMapper().readTree(Fixtures.own(name).resolve("golden.json").toFile());
            String list = name.startsWith("chatglm") ? "conversations" : "prompts";
            List<int[]> prompts = new ArrayList<>(), outputs = new ArrayList<>();
            for (JsonNode item : root.get(list)) {
                if (item.get("prompt_ids").size() + 32 <= CONTEXT) {
                    prompts.add(ints(item.get("prompt_ids")));
                    outputs.add(ints(item.get("output_ids")));
                }
            }
            return new Golden(prompts, outputs);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    /** The real model, with the segments of every forward call written down. */
    private static final class Steps extends ForwardingModel {
        final List<List<Segment>> calls = new CopyOnWriteArrayList<>();

        Steps(CausalLM model) {
            super(model);
        }

        @Override
        protected void beforeStep(List<Segment> segments) {
            calls.add(List.copyOf(segments));
        }

        /**
         * Replays the calls: a sequence starts at position 0 of a slot; no call prefills more than a chunk; once a
         * sequence's prompt is in, every following call decodes its last token (one batched step for all running
         * sequences) until its reply ends; some call prefills beside decodes.
         */
        void assertEveryRunningSequenceStepsEachTime(List<GenerationRequest> requests, List<Generation> replies) {
            int[][] requestOf = requestOfEachSegment(requests, replies);
            boolean interleaved = false;
            for (int i = 0; i < calls.size(); i++) {
                List<Segment> call = calls.get(i);
                int prefill = 0, decodes = 0;
                for (int j = 0; j < call.size(); j++) {
                    Segment s = call.get(j);
                    int r = requestOf[i][j];
                    int promptLength = requests.get(r).promptIds().length;
                    int end = s.startPosition() + s.tokens().length;
                    if (s.startPosition() >= promptLength) {
                        decodes++;
                        assertArrayEquals(new int[] {replies.get(r).tokenIds()[s.startPosition() - promptLength]}, s.tokens(),
                                "call " + i + " decodes request " + r + "'s last token");
                    } else {
                        prefill += s.tokens().length;
                    }
                    int generated = end >= promptLength ? end - promptLength + 1 : 0;
                    if (generated > 0 && generated < replies.get(r).done().completionTokens()) {
                        assertTrue(i + 1 < calls.size() && calls.get(i + 1).stream()
                                        .anyMatch(n -> n.blocks()[0] == s.blocks()[0] && n.startPosition() == end),
                                "request " + r + " is running after call " + i + " but the next call does not decode it");
                    }
                }
                assertTrue(prefill <= CHUNK, "call " + i + " prefills " + prefill + " tokens, more than a chunk");
                interleaved |= prefill > 0 && decodes > 0;
            }
            assertTrue(interleaved, "no call prefilled beside running decodes");
        }

        /**
         * Which request each recorded segment belongs to. A sequence is what one slot is fed from a position-0
         * segment on; it is told by everything it was fed, since a short first chunk can begin several prompts.
         */
        private int[][] requestOfEachSegment(List<GenerationRequest> requests, List<Generation> replies) {
            Map<Integer, Integer> sequenceInSlot = new HashMap<>();
            List<List<Integer>> fed = new ArrayList<>();
            int[][] sequenceOf = new int[calls.size()][];
            for (int i = 0; i < calls.size(); i++) {
                sequenceOf[i] = new int[calls.get(i).size()];
                for (int j = 0; j < calls.get(i).size(); j++) {
                    Segment s = calls.get(i).get(j);
                    if (s.startPosition() == 0) {
                        sequenceInSlot.put(s.blocks()[0], fed.size());
                        fed.add(new ArrayList<>());
                    }
                    int sequence = sequenceInSlot.get(s.blocks()[0]);
                    assertEquals(fed.get(sequence).size(), s.startPosition(), "call " + i + " feeds its sequence at the next position");
                    Arrays.stream(s.tokens()).forEach(fed.get(sequence)::add);
                    sequenceOf[i][j] = sequence;
                }
            }
            int[] requestOfSequence = new int[fed.size()];
            Set<Integer> started = new HashSet<>();
            for (int q = 0; q < fed.size(); q++) {
                requestOfSequence[q] = fedBy(fed.get(q), requests, replies, started);
            }
            assertEquals(requests.size(), started.size(), "every request ran");
            return Arrays.stream(sequenceOf).map(row -> Arrays.stream(row).map(q -> requestOfSequence[q]).toArray()).toArray(int[][]::new);
        }

        /** The request whose prompt and reply, all but a final token no step feeds, are what this sequence was fed. */
        private static int fedBy(List<Integer> fed, List<GenerationRequest> requests, List<Generation> replies, Set<Integer> started) {
            int[] tokens = fed.stream().mapToInt(Integer::intValue).toArray();
            for (int r = 0; r < requests.size(); r++) {
                int[] prompt = requests.get(r).promptIds(), reply = replies.get(r).tokenIds();
                int[] whole = Arrays.copyOf(prompt, prompt.length + reply.length);
                System.arraycopy(reply, 0, whole, prompt.length, reply.length);
                if (!started.contains(r) && tokens.length >= whole.length - 1 && tokens.length <= whole.length
                        && Arrays.equals(tokens, Arrays.copyOf(whole, tokens.length))) {
                    started.add(r);
                    return r;
                }
            }
            throw new AssertionError("a sequence was fed " + tokens.length + " tokens that no request's prompt and reply make");
        }
    }
}
