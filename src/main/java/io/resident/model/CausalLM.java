package io.resident.model;

import java.util.List;

/**
 * A loaded decoder-only language model with a KV cache of fixed slots. Only the engine thread calls it.
 *
 * <p>Each call appends the given tokens of each segment to that segment's slot, at its start position,
 * and returns the next-token logits after each segment's last token. Prefill chunks and single-token
 * decode steps of different slots can share one call.
 */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    /** KV-cache slots, fixed when the model was loaded. */
    int slots();

    /** Positions each slot holds, fixed when the model was loaded. */
    int maxContext();

    /** Next-token logits in float32, one row per segment, in the order given. */
    float[][] forward(List<Segment> segments);

    /** Tokens to append to a slot whose cache already holds positions [0, startPosition). */
    record Segment(int slot, int startPosition, int[] tokens) {}

    long parameterCount();

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
