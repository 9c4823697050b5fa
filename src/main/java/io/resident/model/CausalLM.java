package io.resident.model;

import java.util.List;
import java.util.function.Supplier;

/**
 * A loaded decoder-only language model with a paged KV cache: one pool per layer of {@link #blocks()} blocks of
 * {@link #blockSize()} positions. Only the engine thread calls it.
 *
 * <p>Each call appends the given tokens of each segment to the blocks of that segment's block table, at its start
 * position, and returns the next-token logits after each segment's last token. Prefill chunks and single-token
 * decode steps of different sequences can share one call. Which blocks a sequence owns is the caller's business.
 */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** KV-cache blocks in the pool, as loaded or last allocated. */
    int blocks();

    /**
     * Replaces the KV-cache pool with an empty one of {@code blocks} blocks, so that a model loaded with a small pool
     * gets the one sized from a step measured with it; every sequence's cached positions are lost.
     */
    void allocateCache(int blocks);

    /** Positions one block holds: position p of a sequence lies in its block table's entry p / blockSize. */
    int blockSize();

    /** The longest sequence (prompt plus reply), fixed when the model was loaded. */
    int maxContext();

    /**
     * Runs the segments and returns what choosing each one's next token needs, in the order given. The scores are
     * reduced on the device, so that a greedy step copies three numbers per segment to the host, not a
     * vocabulary-wide row.
     */
    List<Scores> step(List<Segment> segments);

    /** Next-token logits in float32, one row per segment, in the order given (segments made with full logits). */
    default float[][] forward(List<Segment> segments) {
        return step(segments).stream().map(Scores::logits).toArray(float[][]::new);
    }

    /**
     * Tokens to append to a sequence whose cache already holds positions [0, startPosition).
     *
     * @param blocks     the sequence's block table: position p is row blocks[p / blockSize] * blockSize + p % blockSize
     *                   of each layer's pool; it covers at least startPosition + tokens.length positions
     * @param fullLogits whether the step copies this segment's whole logits row to the host (for checks against a
     *                   reference; the engine never asks for it)
     * @param pick       how the step picks this segment's next token on the device; null where the greedy summary is
     *                   enough (or the segment is a prefill chunk that is not the prompt's last)
     */
    record Segment(int[] blocks, int startPosition, int[] tokens, boolean fullLogits, Pick pick) {

        public Segment(int[] blocks, int startPosition, int[] tokens, boolean fullLogits) {
            this(blocks, startPosition, tokens, fullLogits, null);
        }

        /** A segment whose whole logits row comes back. */
        public Segment(int[] blocks, int startPosition, int[] tokens) {
            this(blocks, startPosition, tokens, true, null);
        }
    }

    /**
     * One segment's next-token choice, made on the device for the whole batch in one pass: penalties (over the
     * history's ids on the device), the grammar's mask, then greedy argmax (temperature 0), or temperature, top-k,
     * top-p and min-p and a draw by inverse CDF at {@code uniform}. Log-probabilities are the raw logits' own.
     *
     * @param topK        keep the k most likely; 0 keeps all
     * @param topP        keep the smallest most likely set whose probability reaches p; 1 keeps all
     * @param minP        keep tokens at least minP times as likely as the most likely; 0 keeps all
     * @param topLogprobs how many most likely alternatives come back with their log-probabilities
     * @param uniform     the request's draw in [0, 1) for this step (unused when greedy)
     * @param allowed     the grammar's mask, one bit per id ({@code allowed[id >>> 6] >>> id & 1}), asked for after the
     *                    forward pass (so a mask still being computed overlaps it); null for free text
     * @param history     the sequence's ids for the penalties; null when it has none
     */
    record Pick(float temperature, int topK, float topP, float minP, float repetitionPenalty, float presencePenalty,
            float frequencyPenalty, int topLogprobs, float uniform, Supplier<long[]> allowed, TokenHistory history) {

        boolean greedy() {
            return temperature == 0;
        }
    }

    /** The token a {@link Pick} chose, its log-probability and the most likely alternatives, most likely first. */
    record Picked(int id, float logprob, int[] topIds, float[] topLogprobs) {}

    /**
     * A segment's next-token scores.
     *
     * @param argmax    the most likely id (the lowest among equals)
     * @param maxLogit  its logit
     * @param logSumExp log of the sum of exp(logit) over the vocabulary: logit - logSumExp is a log-probability
     * @param logits    the whole float32 row, or null when the segment did not ask for it
     * @param picked    the device's choice when the segment had a {@link Pick}, else null
     */
    record Scores(int argmax, float maxLogit, double logSumExp, float[] logits, Picked picked) {

        public Scores(int argmax, float maxLogit, double logSumExp, float[] logits) {
            this(argmax, maxLogit, logSumExp, logits, null);
        }

        /** The scores of a logits row computed on the host. */
        public static Scores of(float[] logits) {
            int best = indexOfMax(logits);
            double sum = 0;
            for (float logit : logits) {
                sum += Math.exp(logit - logits[best]);
            }
            return new Scores(best, logits[best], logits[best] + Math.log(sum), logits);
        }

        /** The index of the largest value, the lowest among equals (as torch's argmax). */
        public static int indexOfMax(float[] values) {
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    long parameterCount();

    /** Which compute path runs and why, in words: pure DJL, or the native companion and what it does. */
    default String acceleration() {
        return "pure DJL";
    }

    /**
     * The native arrays the model holds now and their bytes: weights, RoPE tables and the whole KV cache, fixed once
     * loaded; a step's own arrays while it runs. Between steps, anything above the loaded figures is a leak.
     */
    Footprint footprint();

    /** A count of live native arrays and their bytes. */
    record Footprint(int arrays, long bytes) {}

    @Override
    void close();
}
