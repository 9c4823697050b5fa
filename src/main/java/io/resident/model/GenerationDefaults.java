package io.resident.model;

import java.util.List;

/**
 * Sampling defaults of a checkpoint (generation_config.json); a value the file does not set is the
 * Hugging Face default: greedy unless do_sample, temperature 1, top-k 50, top-p 1.
 */
public record GenerationDefaults(
        List<Integer> eosTokenIds, boolean doSample, double temperature, int topK, double topP,
        double repetitionPenalty, int maxNewTokens) {

    public static final GenerationDefaults NONE = new GenerationDefaults(List.of(), false, 1.0, 50, 1.0, 1.0, 0);
}
