package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.resident.engine.GenerationEvent.Alternative;
import io.resident.model.CausalLM;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sampler on real next-token logits: those of the tiny ChatGLM3 fixture as the reference computed them. */
class SamplerTest {

    private static final int DRAWS = 20_000;

    private static float[][] steps;
    private static int[] greedyIds;
    private static float[] logits;

    @BeforeAll
    static void readGolden() {
        JsonNode first = TinyChatGLM.conversations().get(0);
        JsonNode rows = first.get("logits_first_steps");
        steps = new float[rows.size()][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = TinyChatGLM.floats(rows.get(i));
        }
        greedyIds = TinyChatGLM.ints(first.get("output_ids"));
        logits = steps[0];
    }

    @Test
    void greedyPicksTheReferenceTokens() {
        Sampler sampler = new Sampler(SamplingParams.greedy(10), new int[] {1});
        for (int step = 0; step < steps.length; step++) {
            assertEquals(greedyIds[step], sampler.next(CausalLM.Scores.of(steps[step])).id(), "step " + step);
        }
    }

    @Test
    void logprobsAreTheLogSoftmaxOfTheRawLogits() {
        Sampler sampler = new Sampler(SamplingParams.builder().temperature(0).topLogprobs(5).build(), new int[] {1});
        Sampler.Choice choice = sampler.next(CausalLM.Scores.of(logits));
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l);
        }
        assertEquals(logits[choice.id()] - Math.log(sum), choice.logprob(), 1e-5);
        List<Integer> byLogit = descending(logits);
        assertEquals(byLogit.subList(0, 5), choice.top().stream().map(Alternative::id).toList());
        assertEquals(choice.logprob(), choice.top().get(0).logprob(), 0f);
        for (Alternative a : choice.top()) {
            assertEquals(logits[a.id()] - Math.log(sum), a.logprob(), 1e-5);
        }
    }

    @Test
    void topKDrawsOnlyTheKMostLikelyInProportion() {
        Sampler sampler = new Sampler(SamplingParams.builder().temperature(0.7).topK(3).seed(7L).build(), new int[] {1});
        List<Integer> top3 = descending(logits).subList(0, 3);
        Map<Integer, Integer> counts = draw(sampler, logits);
        assertEquals(top3.stream().sorted().toList(), counts.keySet().stream().sorted().toList());
        double z = top3.stream().mapToDouble(id -> Math.exp(logits[id] / 0.7)).sum();
        for (int id : top3) {
            assertEquals(Math.exp(logits[id] / 0.7) / z, counts.get(id) / (double) DRAWS, 0.015, "token " + id);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        double p = 0.8;
        List<Integer> order = descending(logits);
        double z = 0;
        for (float l : logits) {
            z += Math.exp(l);
        }
        int nucleus = 0;
        for (double cumulative = 0; cumulative < p; nucleus++) {
            cumulative += Math.exp(logits[order.get(nucleus)]) / z;
        }
        // wider than the sampler's first guess of 64 candidates on these flat random-weight logits
        assertTrue(nucleus > 64, "nucleus of " + nucleus);
        Sampler sampler = new Sampler(SamplingParams.builder().topP(p).seed(11L).build(), new int[] {1});
        Map<Integer, Integer> counts = draw(sampler, logits);
        List<Integer> kept = order.subList(0, nucleus);
        assertTrue(kept.containsAll(counts.keySet()), "a token outside the nucleus was drawn");
        assertTrue(counts.containsKey(order.get(nucleus - 1)), "the token that crosses p belongs to the nucleus");
    }

    @Test
    void sameSeedSameTokensAndOtherSeedsDiffer() {
        SamplingParams seeded = SamplingParams.builder().temperature(1.2).topP(0.95).seed(42L).build();
        int[] a = drawIds(new Sampler(seeded, new int[] {1}));
        int[] b = drawIds(new Sampler(seeded, new int[] {1}));
        int[] c = drawIds(new Sampler(SamplingParams.builder().temperature(1.2).topP(0.95).seed(43L).build(), new int[] {1}));
        int[] unseeded = drawIds(new Sampler(SamplingParams.builder().temperature(1.2).topP(0.95).build(), new int[] {1}));
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
        assertNotEquals(Arrays.toString(a), Arrays.toString(unseeded));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfPromptAndReply() {
        List<Integer> order = descending(logits);
        int positive = order.get(0);
        int negative = order.get(order.size() - 1);
        assertTrue(logits[positive] > 0 && logits[negative] < 0);
        Sampler sampler = new Sampler(
                SamplingParams.builder().temperature(0).repetitionPenalty(1.3).build(), new int[] {positive, negative});
        float[] penalized = sampler.penalized(logits);
        assertEquals(logits[positive] / 1.3f, penalized[positive], 0f);
        assertEquals(logits[negative] * 1.3f, penalized[negative], 0f);
        int untouched = order.get(1);
        assertEquals(logits[untouched], penalized[untouched], 0f);
        // 1.3 is enough here to let the runner-up win: the greedy choice moves, its logprob stays the model's
        assertTrue(logits[positive] / 1.3f < logits[untouched]);
        Sampler.Choice choice = sampler.next(CausalLM.Scores.of(logits));
        assertEquals(untouched, choice.id());
        assertEquals(logits[untouched] - CausalLM.Scores.of(logits).logSumExp(), choice.logprob(), 1e-6);
        assertEquals(logits[untouched] / 1.3f, sampler.penalized(logits)[untouched], 0f, "a generated id is penalized too");
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        int top = descending(logits).get(0);
        Sampler sampler = new Sampler(
                SamplingParams.builder().temperature(0).presencePenalty(0.5).frequencyPenalty(0.25).build(), new int[] {top});
        assertEquals(logits[top], sampler.penalized(logits)[top], 0f, "the prompt does not count");
        float[] one = logits.clone();
        Arrays.fill(one, -5f);
        one[top] = 5f;
        one[3] = 4.5f;
        assertEquals(top, sampler.next(CausalLM.Scores.of(one)).id());
        assertEquals(5f - 0.25f - 0.5f, sampler.penalized(one)[top], 0f);
        assertEquals(3, sampler.next(CausalLM.Scores.of(one)).id(), "4.25 now loses to 4.5");
        assertEquals(4.5f - 0.25f - 0.5f, sampler.penalized(one)[3], 0f);
        assertEquals(top, sampler.next(CausalLM.Scores.of(one)).id(), "4.25 beats 3.75");
        assertEquals(5f - 2 * 0.25f - 0.5f, sampler.penalized(one)[top], 0f);
    }

    @Test
    void topIndicesOrderLikeAFullSortWithLowerIndexFirstAmongEquals() {
        float[] values = {0.5f, -1f, 2f, 0.5f, Float.NEGATIVE_INFINITY, 2f, -0f, 0f, 3f};
        assertArrayEquals(new int[] {8, 2, 5, 0, 3, 6, 7}, Sampler.topIndices(values, 7));
        int[] all = Sampler.topIndices(logits, logits.length);
        assertEquals(descending(logits), IntStream.of(all).boxed().toList());
    }

    @Test
    void badSettingsAreRefusedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(0).build());
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().maxTokens(0).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().stop(List.of("")).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topLogprobs(21).build());
    }

    private static Map<Integer, Integer> draw(Sampler sampler, float[] row) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < DRAWS; i++) {
            counts.merge(sampler.next(CausalLM.Scores.of(row)).id(), 1, Integer::sum);
        }
        return counts;
    }

    private static int[] drawIds(Sampler sampler) {
        return IntStream.range(0, 64).map(i -> sampler.next(CausalLM.Scores.of(steps[i % steps.length])).id()).toArray();
    }

    /** Ids by logit, largest first, lower id first among equals: a full sort, for comparison. */
    private static List<Integer> descending(float[] row) {
        return IntStream.range(0, row.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparing(i -> i))
                .toList();
    }
}
