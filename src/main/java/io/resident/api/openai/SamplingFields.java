package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** The fields chat and text completions share, named as OpenAI's API and vLLM's extensions (top_k, repetition_penalty) name them. */
interface SamplingFields {

    String model();

    Double temperature();

    Double topP();

    Integer topK();

    Double repetitionPenalty();

    Double presencePenalty();

    Double frequencyPenalty();

    Long seed();

    Integer n();

    /** A string or an array of strings. */
    JsonNode stop();

    Boolean stream();

    StreamOptions streamOptions();

    JsonNode logitBias();

    /** vLLM's extension: generate past the model's stop ids up to the token limit (fixed lengths for benchmarks). */
    Boolean ignoreEos();

    /** @param includeUsage send a last chunk with the usage (and empty choices) before [DONE] */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record StreamOptions(Boolean includeUsage) {}

    default boolean streaming() {
        return Boolean.TRUE.equals(stream());
    }

    default boolean includeUsage() {
        return streamOptions() != null && Boolean.TRUE.equals(streamOptions().includeUsage());
    }
}
