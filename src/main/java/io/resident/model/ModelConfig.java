package io.resident.model;

import java.util.List;

/**
 * The shape of a checkpoint, read from its config.json into one form for every family.
 *
 * @param family          the architecture family (llama, mistral, qwen2, chatglm)
 * @param maxPositions    the longest sequence the checkpoint was made for
 * @param eosTokenIds     eos ids from config.json and generation_config.json
 * @param dtype           the checkpoint's weight dtype (float32, float16, bfloat16)
 * @param ropeTheta       RoPE base
 * @param rotaryDim       leading dims of each head that RoPE rotates (headDim, or headDim / 2 for ChatGLM)
 * @param ropeScaling     null for plain RoPE
 * @param qkvBias         whether the q/k/v projections carry a bias
 * @param tiedEmbeddings  whether the LM head reuses the embedding matrix
 * @param slidingWindow   the attention window of the checkpoint, 0 when it attends to everything
 * @param generation      sampling defaults from generation_config.json
 */
public record ModelConfig(
        String family,
        int vocabSize,
        int hiddenSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int intermediateSize,
        int maxPositions,
        List<Integer> eosTokenIds,
        String dtype,
        double ropeTheta,
        int rotaryDim,
        RopeScaling ropeScaling,
        double rmsNormEps,
        boolean qkvBias,
        boolean tiedEmbeddings,
        int slidingWindow,
        GenerationDefaults generation) {

    /**
     * RoPE frequency scaling: "linear" (all frequencies divided by factor) or "llama3" (low frequencies
     * divided by factor, high ones kept, a smooth blend between).
     */
    public record RopeScaling(
            String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {}

    /** Positions a sequence may reach: the checkpoint's limit, and no more than its attention window (see Llama). */
    public int contextLimit() {
        return slidingWindow > 0 ? Math.min(maxPositions, slidingWindow) : maxPositions;
    }
}
