package io.resident.model;

import java.util.List;

/**
 * The shape of a checkpoint, read from its config.json into one form for every family.
 *
 * @param family        the architecture family (llama, mistral, qwen2, chatglm)
 * @param maxPositions  the longest sequence the checkpoint was made for
 * @param eosTokenIds   eos ids from config.json and generation_config.json
 * @param dtype         the checkpoint's weight dtype (float32, float16, bfloat16)
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
        String dtype) {}
