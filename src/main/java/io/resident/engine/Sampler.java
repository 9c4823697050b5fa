package io.resident.engine;

import io.resident.engine.GenerationEvent.Alternative;
import io.resident.grammar.Constraint;
import io.resident.model.CausalLM.Scores;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks one sequence's tokens from its logits with that request's own settings, in HF's order: penalties, then
 * temperature, top-k, top-p. Log-probabilities are the model's own (log-softmax of the raw logits), as OpenAI
 * reports them. A constrained sequence chooses among the ids its grammar allows (the others' logits are -inf before
 * any cut), on the host row. One instance per sequence; keeps the ids seen so far for the penalties.
 */
final class Sampler {

    /** The chosen token, its log-probability and the asked-for alternatives. */
    record Choice(int id, float logprob, List<Alternative> top) {}

    private static final RandomGeneratorFactory<RandomGenerator> RANDOMS = RandomGeneratorFactory.of("L64X128MixRandom");
    /** Most nucleus (top-p) sets are far smaller than the vocabulary: sort this many first, widen if short. */
    private static final int NUCLEUS_GUESS = 64;

    private final SamplingParams params;
    private final RandomGenerator random;
    private final BitSet seen = new BitSet();
    private final Map<Integer, Integer> generatedCounts = new HashMap<>();
    private final Constraint constraint;

    Sampler(SamplingParams params, int[] promptIds) {
        this(params, promptIds, null);
    }

    /** @param constraint the grammar's progress, null for free text */
    Sampler(SamplingParams params, int[] promptIds, Constraint constraint) {
        this.params = params;
        this.constraint = constraint;
        this.random = params.seed() == null ? RANDOMS.create() : RANDOMS.create(params.seed());
        if (params.repetitionPenalty() != 1) {
            for (int id : promptIds) {
                seen.set(id);
            }
        }
    }

    /** Whether choosing needs the whole logits row; greedy decoding without penalties or alternatives does not. */
    boolean needsLogits() {
        return !params.greedy() || params.topLogprobs() > 0 || penalties() || constraint != null;
    }

    /** Chooses the next token from this step's scores and remembers it for the penalties. */
    Choice next(Scores scores) {
        if (scores.logits() == null) {
            remember(scores.argmax());
            return new Choice(scores.argmax(), (float) (scores.maxLogit() - scores.logSumExp()), List.of());
        }
        float[] logits = scores.logits();
        double logSumExp = scores.logSumExp();
        List<Alternative> top = params.topLogprobs() == 0 ? List.of() : alternatives(logits, logSumExp);
        float[] penalized = constraint == null ? penalized(logits) : masked(penalized(logits), constraint.allowed());
        int id = params.greedy() ? (penalized == logits ? scores.argmax() : Scores.indexOfMax(penalized)) : draw(penalized);
        remember(id);
        if (constraint != null) {
            constraint.advance(id);
        }
        return new Choice(id, (float) (logits[id] - logSumExp), top);
    }

    private boolean penalties() {
        return params.repetitionPenalty() != 1 || params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
    }

    private void remember(int id) {
        if (params.repetitionPenalty() != 1) {
            seen.set(id);
        }
        if (params.presencePenalty() != 0 || params.frequencyPenalty() != 0) {
            generatedCounts.merge(id, 1, Integer::sum);
        }
    }

    private List<Alternative> alternatives(float[] logits, double logSumExp) {
        List<Alternative> top = new ArrayList<>(params.topLogprobs());
        for (int id : topIndices(logits, Math.min(params.topLogprobs(), logits.length))) {
            top.add(new Alternative(id, (float) (logits[id] - logSumExp)));
        }
        return List.copyOf(top);
    }

    /** The logits after the penalties, in float32 as HF and vLLM compute them; the input itself when none apply. */
    float[] penalized(float[] logits) {
        boolean repetition = params.repetitionPenalty() != 1;
        if (!repetition && generatedCounts.isEmpty()) {
            return logits;
        }
        float[] scores = logits.clone();
        float penalty = (float) params.repetitionPenalty();
        for (int id = seen.nextSetBit(0); id >= 0 && id < scores.length; id = seen.nextSetBit(id + 1)) {
            scores[id] = scores[id] < 0 ? scores[id] * penalty : scores[id] / penalty;
        }
        float presence = (float) params.presencePenalty();
        float frequency = (float) params.frequencyPenalty();
        generatedCounts.forEach((id, count) -> {
            scores[id] -= frequency * count;
            scores[id] -= presence;
        });
        return scores;
    }

    /** The scores of the allowed ids, -inf elsewhere. */
    private static float[] masked(float[] scores, long[] allowed) {
        float[] out = new float[scores.length];
        Arrays.fill(out, Float.NEGATIVE_INFINITY);
        for (int w = 0; w < allowed.length; w++) {
            for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
                int id = (w << 6) + Long.numberOfTrailingZeros(bits);
                out[id] = scores[id];
            }
        }
        return out;
    }

    private int draw(float[] scores) {
        if (params.topK() == 0 && params.topP() >= 1) {
            return drawAmong(scores, null, scores.length, scores[Scores.indexOfMax(scores)]);
        }
        int vocab = scores.length;
        boolean cutByK = params.topK() > 0;
        int candidates = Math.min(cutByK ? params.topK() : NUCLEUS_GUESS, vocab);
        while (true) {
            int[] order = topIndices(scores, candidates);
            double max = scores[order[0]];
            double total = 0;
            if (cutByK) {
                for (int id : order) {
                    total += weight(scores[id], max);
                }
            } else {
                for (float score : scores) {
                    total += weight(score, max);
                }
            }
            double cumulative = 0;
            int keep = 0;
            while (keep < order.length && cumulative < params.topP()) {
                cumulative += weight(scores[order[keep++]], max) / total;
            }
            if (cumulative >= params.topP() || cutByK || candidates == vocab) {
                return drawAmong(scores, order, keep, max);
            }
            candidates = (int) Math.min(4L * candidates, vocab);
        }
    }

    /** Draws among the first {@code count} ids of {@code order} (all ids in index order when null). */
    private int drawAmong(float[] scores, int[] order, int count, double max) {
        double total = 0;
        for (int i = 0; i < count; i++) {
            total += weight(scores[order == null ? i : order[i]], max);
        }
        double target = random.nextDouble() * total;
        int id = order == null ? 0 : order[0];
        for (int i = 0; i < count; i++) {
            id = order == null ? i : order[i];
            target -= weight(scores[id], max);
            if (target < 0) {
                break;
            }
        }
        return id;
    }

    private double weight(double score, double max) {
        return Math.exp((score - max) / params.temperature());
    }


    /** The k largest values' indices, largest first, lower index first among equals; a bounded heap, no full sort. */
    static int[] topIndices(float[] values, int k) {
        long[] heap = new long[k];
        int size = 0;
        for (int i = 0; i < values.length; i++) {
            long key = rankKey(values[i], i);
            if (size < k) {
                heap[size] = key;
                siftUp(heap, size++);
            } else if (key < heap[0]) {
                heap[0] = key;
                siftDown(heap, size);
            }
        }
        Arrays.sort(heap, 0, size);
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = (int) heap[i];
        }
        return order;
    }

    /** A long that sorts ascending as the value descending, then the index ascending. */
    private static long rankKey(float value, int index) {
        int bits = Float.floatToIntBits(value == 0 ? 0f : value); // -0 ranks as 0
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | index;
    }

    private static void siftUp(long[] heap, int at) {
        while (at > 0) {
            int parent = (at - 1) / 2;
            if (heap[parent] >= heap[at]) {
                return;
            }
            swap(heap, parent, at);
            at = parent;
        }
    }

    private static void siftDown(long[] heap, int size) {
        int at = 0;
        while (true) {
            int largest = at;
            int left = 2 * at + 1;
            int right = left + 1;
            if (left < size && heap[left] > heap[largest]) {
                largest = left;
            }
            if (right < size && heap[right] > heap[largest]) {
                largest = right;
            }
            if (largest == at) {
                return;
            }
            swap(heap, at, largest);
            at = largest;
        }
    }

    private static void swap(long[] heap, int a, int b) {
        long t = heap[a];
        heap[a] = heap[b];
        heap[b] = t;
    }
}
