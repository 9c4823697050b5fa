package io.resident.engine;

import java.util.Objects;

/**
 * One reply to generate: the prompt's token ids (chat template already applied) and how to sample.
 *
 * @param promptIds the whole prompt; its length must stay below the engine's context
 * @param params    sampling and stop settings with the model's defaults filled in
 */
public record GenerationRequest(int[] promptIds, SamplingParams params) {

    public GenerationRequest {
        Objects.requireNonNull(promptIds, "promptIds");
        Objects.requireNonNull(params, "params");
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        promptIds = promptIds.clone();
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }
}
