package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.GenerationEvent.Done;

/** Token counts of one request; completion tokens count a final end-of-turn token, as vLLM counts them. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record Usage(int promptTokens, int completionTokens, int totalTokens) {

    static Usage of(Done done) {
        return new Usage(done.promptTokens(), done.completionTokens(), done.promptTokens() + done.completionTokens());
    }
}
