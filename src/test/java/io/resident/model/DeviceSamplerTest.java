package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.resident.model.CausalLM.Pick;
import io.resident.model.CausalLM.Picked;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The device sampler on the CPU (the same code path as on a GPU): its draws over a known logits row follow the
 * distribution each setting asks for, its penalties and masks change exactly the logits they name, and its
 * log-probabilities are the raw logits' log-softmax.
 */
class DeviceSamplerTest {

    /** Distinct logits, most likely first but not in id order. */
    private static final float[] ROW = {1.2f, 2.0f, -0.3f, 0.9f, 1.5f, 0.1f, -1.0f, 0.5f, -4.0f, -0.8f, -2.5f, -1.7f};
    private static final int VOCAB = ROW.length;
    private static final int DRAWS = 20_000;
    /** Chi-square's critical values at significance 0.001 for 1 to 11 degrees of freedom. */
    private static final double[] CHI_SQUARE_999 =
            {10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264};

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void temperatureAloneDrawsInProportion() {
        assertDrawsFollow(0.7f, 0, 1f, 0f);
    }

    @Test
    void topKDrawsOnlyTheKMostLikelyInProportion() {
        assertDrawsFollow(1f, 3, 1f, 0f);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        assertDrawsFollow(1f, 0, 0.8f, 0f);
    }

    @Test
    void minPKeepsTokensAtLeastThatShareOfTheMostLikely() {
        assertDrawsFollow(1f, 0, 1f, 0.2f);
    }

    @Test
    void allCutsTogetherInHfOrder() {
        assertDrawsFollow(1.3f, 8, 0.9f, 0.05f);
    }

    @Test
    void greedyIsTheArgmaxAndSameUniformsPickTheSameWhateverTheBatch() {
        assertEquals(1, pickAll(List.of(pick(0f, 0, 1f, 0f, 0f)))[0].id());
        SplittableRandom random = new SplittableRandom(5);
        List<Pick> alone = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            alone.add(pick(1.1f, 0, 0.95f, 0f, (float) random.nextDouble()));
        }
        int[] one = alone.stream().mapToInt(p -> pickAll(List.of(p))[0].id()).toArray();
        // the same picks in one batch, behind rows of other settings and rows that do not pick
        List<Pick> mixed = new ArrayList<>();
        for (Pick p : alone) {
            mixed.add(null);
            mixed.add(pick(0.3f, 2, 1f, 0f, 0.5f));
            mixed.add(p);
        }
        Picked[] batched = pickAll(mixed);
        assertArrayEquals(one, IntStream.range(0, 64).map(i -> batched[3 * i + 2].id()).toArray());
        assertNull(batched[0]);
    }

    @Test
    void logprobsAndAlternativesAreTheLogSoftmaxOfTheRawLogits() {
        Pick p = new Pick(0.8f, 0, 1f, 0f, 1f, 0f, 0f, 5, 0.3f, null, null);
        Picked picked = pickAll(List.of(p))[0];
        double logSumExp = Math.log(IntStream.range(0, VOCAB).mapToDouble(i -> Math.exp(ROW[i])).sum());
        assertEquals(ROW[picked.id()] - logSumExp, picked.logprob(), 1e-5);
        assertEquals(descending().subList(0, 5), Arrays.stream(picked.topIds()).boxed().toList());
        for (int i = 0; i < 5; i++) {
            assertEquals(ROW[picked.topIds()[i]] - logSumExp, picked.topLogprobs()[i], 1e-5);
        }
    }

    @Test
    void penaltiesChangeExactlyThePenalizedLogits() {
        DeviceSampler sampler = new DeviceSampler(manager, VOCAB);
        int[] prompt = {1, 8};
        TokenHistory history = new TokenHistory(prompt);
        float repetition = 1.3f, presence = 0.5f, frequency = 0.25f;
        Pick greedy = new Pick(0f, 0, 1f, 0f, repetition, presence, frequency, 0, 0f, null, history);
        int[] generatedCounts = new int[VOCAB];
        for (int step = 0; step < 4; step++) {
            float[] penalized;
            try (NDManager m = manager.newSubManager()) {
                penalized = sampler.penalized(rows(m, ROW, 1), List.of(greedy), m).toFloatArray();
            }
            float[] expected = new float[VOCAB];
            for (int id = 0; id < VOCAB; id++) {
                float x = ROW[id];
                boolean seen = generatedCounts[id] > 0 || id == prompt[0] || id == prompt[1];
                x = !seen ? x : x < 0 ? x * repetition : x / repetition;
                x -= frequency * generatedCounts[id];
                x -= generatedCounts[id] > 0 ? presence : 0;
                expected[id] = x;
            }
            assertArrayEquals(expected, penalized, 0f, "step " + step);
            int chosen = pickWith(sampler, List.of(greedy))[0].id();
            assertEquals(indexOfMax(expected), chosen, "greedy picks the penalized argmax at step " + step);
            generatedCounts[chosen]++;
        }
        history.close();
        TokenHistory fresh = new TokenHistory(new int[0]);
        Pick presenceOnly = new Pick(0f, 0, 1f, 0f, 1f, presence, 0f, 0, 0f, null, fresh);
        try (NDManager m = manager.newSubManager()) {
            assertArrayEquals(ROW, sampler.penalized(rows(m, ROW, 1), List.of(presenceOnly), m).toFloatArray(), 0f,
                    "a row taken again starts empty");
        }
        fresh.close();
    }

    @Test
    void theGrammarMaskLeavesOnlyAllowedIdsAcrossWords() {
        int vocab = 130;
        float[] row = new float[vocab];
        for (int id = 0; id < vocab; id++) {
            row[id] = (float) Math.sin(id);
        }
        int[] ids = {3, 64, 71, 129};
        long[] allowed = new long[3];
        for (int id : ids) {
            allowed[id >>> 6] |= 1L << id;
        }
        DeviceSampler sampler = new DeviceSampler(manager, vocab);
        SplittableRandom random = new SplittableRandom(9);
        List<Pick> picks = new ArrayList<>();
        picks.add(new Pick(0f, 0, 1f, 0f, 1f, 0f, 0f, 0, 0f, () -> allowed, null));
        for (int i = 0; i < 2000; i++) {
            picks.add(new Pick(2f, 0, 1f, 0f, 1f, 0f, 0f, 0, (float) random.nextDouble(), () -> allowed, null));
        }
        Picked[] picked = pickWith(sampler, row, picks);
        int best = Arrays.stream(ids).boxed().max(Comparator.comparingDouble(id -> row[id])).orElseThrow();
        assertEquals(best, picked[0].id());
        int[] counts = new int[vocab];
        Arrays.stream(picked).skip(1).forEach(p -> counts[p.id()]++);
        for (int id = 0; id < vocab; id++) {
            int at = id;
            boolean isAllowed = Arrays.stream(ids).anyMatch(a -> a == at);
            assertTrue(isAllowed ? counts[id] > 0 : counts[id] == 0, "id " + id + " drawn " + counts[id] + " times");
        }
    }

    @Test
    void greedyUnderAMaskIsTheLowestAllowedIdOfTheLargestAllowedLogitWithTheFreeRowsLogprob() {
        int vocab = 160;
        float[] row = new float[vocab];
        for (int id = 0; id < vocab; id++) {
            row[id] = Math.round(4 * Math.sin(id)) / 4f; // nine values, so ties everywhere
        }
        double logSumExp = (float) CausalLM.Scores.of(row).logSumExp(); // as the step's summary holds it
        // masks from one id to all: the row's argmax allowed (taken from the summary), few ids, many without the argmax
        SplittableRandom random = new SplittableRandom(3);
        List<long[]> masks = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            double share = i % 3 == 0 ? 0.02 : i % 3 == 1 ? 0.1 : 0.7;
            long[] mask = new long[3];
            for (int id = 0; id < vocab; id++) {
                if (random.nextDouble() < share) {
                    mask[id >>> 6] |= 1L << id;
                }
            }
            mask[i % 3] |= 1L << i; // never empty
            masks.add(mask);
        }
        DeviceSampler sampler = new DeviceSampler(manager, vocab);
        List<Pick> picks = masks.stream().map(mask -> new Pick(0f, 0, 1f, 0f, 1f, 0f, 0f, 0, 0f, () -> mask, null)).toList();
        Picked[] picked = pickWith(sampler, row, picks);
        for (int i = 0; i < masks.size(); i++) {
            long[] mask = masks.get(i);
            int best = IntStream.range(0, vocab).filter(id -> (mask[id >>> 6] >>> id & 1) == 1)
                    .reduce((a, b) -> row[b] > row[a] ? b : a).orElseThrow();
            assertEquals(best, picked[i].id(), "mask " + i);
            // as a free greedy row's logprob is reported: its logit less the summary's log-sum-exp
            assertEquals((float) (row[best] - logSumExp), picked[i].logprob(), 0f, "mask " + i);
        }
    }

    @Test
    void pickingLeavesNoArrayBehindButTheHistoryBuffers() {
        DeviceSampler sampler = new DeviceSampler(manager, VOCAB);
        long[] allowed = {0b1011_0110L}, one = {1L << 5};
        TokenHistory first = new TokenHistory(new int[] {2, 3});
        pickWith(sampler, List.of(new Pick(0.9f, 4, 0.9f, 0.1f, 1.2f, 0.1f, 0.1f, 3, 0.4f, () -> allowed, first)));
        // logits held by the model's manager, as a decode graph's static outputs are
        NDArray logits = rows(manager, ROW, 4);
        int arrays = manager.getManagedArrays().size();
        for (int i = 0; i < 5; i++) {
            TokenHistory other = new TokenHistory(new int[] {i});
            Pick penalized = new Pick(0.9f, 4, 0.9f, 0.1f, 1.2f, 0.1f, 0.1f, 3, 0.1f * i, () -> allowed, other);
            Pick[] picks = {penalized, new Pick(0f, 0, 1f, 0f, 1f, 0f, 0f, 2, 0f, null, first), null,
                new Pick(0f, 0, 1f, 0f, 1f, 0f, 0f, 0, 0f, () -> one, null)};
            Picked[] picked;
            try (NDManager m = manager.newSubManager()) {
                picked = sampler.pick(logits, Arrays.asList(picks), summaries(ROW, picks.length), m);
            }
            assertTrue((allowed[0] >>> picked[0].id() & 1) == 1, "a masked id was picked: " + picked[0].id());
            assertEquals(5, picked[3].id());
            other.close();
        }
        assertEquals(arrays, manager.getManagedArrays().size(), "arrays left in the model's manager");
    }

    /** 20,000 seeded draws at these settings pass a chi-square test at 0.001 against the host's distribution. */
    private void assertDrawsFollow(float temperature, int topK, float topP, float minP) {
        double[] expected = expected(temperature, topK, topP, minP);
        SplittableRandom random = new SplittableRandom(42);
        List<Pick> picks = new ArrayList<>(DRAWS);
        for (int i = 0; i < DRAWS; i++) {
            picks.add(pick(temperature, topK, topP, minP, (float) random.nextDouble()));
        }
        int[] counts = new int[VOCAB];
        for (Picked p : pickAll(picks)) {
            counts[p.id()]++;
        }
        double chiSquare = 0;
        int kept = 0;
        for (int id = 0; id < VOCAB; id++) {
            if (expected[id] == 0) {
                assertEquals(0, counts[id], "id " + id + " is cut, yet drawn");
            } else {
                kept++;
                double e = expected[id] * DRAWS;
                chiSquare += (counts[id] - e) * (counts[id] - e) / e;
            }
        }
        assertTrue(kept > 1, "a setting that keeps one token tests nothing");
        assertTrue(chiSquare < CHI_SQUARE_999[kept - 2],
                "chi-square " + chiSquare + " over " + kept + " tokens; counts " + Arrays.toString(counts));
    }

    /** The distribution the settings ask for, in double on the host: HF's temperature, top-k, top-p, min-p. */
    private static double[] expected(float temperature, int topK, float topP, float minP) {
        List<Integer> order = descending();
        double[] weight = new double[VOCAB];
        int k = topK == 0 ? VOCAB : topK;
        double total = 0;
        for (int r = 0; r < k; r++) {
            total += weight[order.get(r)] = Math.exp(ROW[order.get(r)] / temperature);
        }
        double[] p = new double[VOCAB];
        double before = 0;
        double first = weight[order.get(0)] / total;
        for (int r = 0; r < k; r++) {
            int id = order.get(r);
            double share = weight[id] / total;
            assertTrue(topP == 1 || Math.abs(before - topP) > 1e-4, "top-p at a boundary would test rounding");
            if (before < topP && share >= minP * first) {
                p[id] = share;
            }
            before += share;
        }
        double kept = Arrays.stream(p).sum();
        return Arrays.stream(p).map(v -> v / kept).toArray();
    }

    private static Pick pick(float temperature, int topK, float topP, float minP, float uniform) {
        return new Pick(temperature, topK, topP, minP, 1f, 0f, 0f, 0, uniform, null, null);
    }

    private Picked[] pickAll(List<Pick> picks) {
        return pickWith(new DeviceSampler(manager, VOCAB), picks);
    }

    /** Picks over copies of the known row, one a pick. */
    private Picked[] pickWith(DeviceSampler sampler, List<Pick> picks) {
        return pickWith(sampler, ROW, picks);
    }

    /** Picks over copies of a row, one a pick, with the step's summary of each. */
    private Picked[] pickWith(DeviceSampler sampler, float[] row, List<Pick> picks) {
        try (NDManager m = manager.newSubManager()) {
            return sampler.pick(rows(m, row, picks.size()), picks, summaries(row, picks.size()), m);
        }
    }

    /** The step's summary of n copies of a row: argmax, max logit and log-sum-exp each. */
    private static float[] summaries(float[] row, int n) {
        CausalLM.Scores scores = CausalLM.Scores.of(row);
        float[] out = new float[3 * n];
        for (int i = 0; i < n; i++) {
            out[3 * i] = scores.argmax();
            out[3 * i + 1] = scores.maxLogit();
            out[3 * i + 2] = (float) scores.logSumExp();
        }
        return out;
    }

    /** n copies of a row [n, vocab]. */
    private static NDArray rows(NDManager m, float[] row, int n) {
        float[] tiled = new float[n * row.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(row, 0, tiled, i * row.length, row.length);
        }
        return m.create(tiled, new Shape(n, row.length));
    }

    private static List<Integer> descending() {
        List<Integer> ids = new ArrayList<>(IntStream.range(0, VOCAB).boxed().toList());
        ids.sort(Comparator.comparingDouble(i -> -ROW[i]));
        return Collections.unmodifiableList(ids);
    }

    private static int indexOfMax(float[] values) {
        return CausalLM.Scores.indexOfMax(values);
    }
}
