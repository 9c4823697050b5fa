package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.GenerationEvent.Done;

/**
 * Token counts of one request; completion tokens count a final end-of-turn token, as vLLM counts them. Prompt tokens
 * served from the prefix cache are in prompt_tokens_details.cached_tokens, as OpenAI reports them.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record Usage(int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record PromptTokensDetails(int cachedTokens) {}

    static Usage of(Done done) {
        return new Usage(done.promptTokens(), done.completionTokens(), done.promptTokens() + done.completionTokens(),
                new PromptTokensDetails(done.cachedTokens()));
    }
}
