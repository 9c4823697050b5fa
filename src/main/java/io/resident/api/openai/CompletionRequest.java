package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.api.ApiException;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;

/** A POST /v1/completions body: one prompt, as a string or as token ids. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record CompletionRequest(
        String model,
        JsonNode prompt,
        Double temperature,
        Double topP,
        Integer topK,
        Double repetitionPenalty,
        Double presencePenalty,
        Double frequencyPenalty,
        Long seed,
        Integer n,
        JsonNode stop,
        Integer maxTokens,
        Integer logprobs,
        Boolean echo,
        String suffix,
        Integer bestOf,
        Boolean stream,
        StreamOptions streamOptions,
        JsonNode logitBias,
        JsonNode responseFormat,
        Boolean ignoreEos)
        implements SamplingFields {

    /** OpenAI's and vLLM's default for text completions. */
    static final int DEFAULT_MAX_TOKENS = 16;

    /** The prompt's ids: a string through the model's tokenizer, or ids as given (a list of one string counts as the string). */
    int[] promptIds(ServedModel model) {
        JsonNode p = prompt;
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            p = p.get(0);
        }
        if (p != null && p.isTextual()) {
            int[] ids = model.tokenizer().completionPrompt(p.asText());
            if (ids.length == 0) {
                throw ApiException.invalid("prompt", "'prompt' is empty: give it some text or token ids");
            }
            return ids;
        }
        if (p == null || !p.isArray() || p.isEmpty()) {
            throw ApiException.invalid("prompt", "'prompt' must be a string, or an array of token ids");
        }
        int vocab = model.engine().vocabSize();
        int[] ids = new int[p.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = p.get(i);
            if (id.isTextual()) {
                throw ApiException.invalid("prompt", "'prompt' holds " + p.size() + " prompts; send one per request");
            }
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0 || id.asInt() >= vocab) {
                throw ApiException.invalid("prompt[" + i + "]", "'prompt[" + i + "]' is " + id + ": token ids are integers in [0, " + vocab + ")");
            }
            ids[i] = id.asInt();
        }
        return ids;
    }

    TokenLimit tokenLimit() {
        return new TokenLimit("max_tokens", maxTokens == null ? DEFAULT_MAX_TOKENS : maxTokens);
    }

    /** The legacy logprobs field: how many alternatives per token (0 gives only the chosen token's), null for none. */
    int alternatives() {
        if (logprobs != null && (logprobs < 0 || logprobs > SamplingParams.MAX_TOP_LOGPROBS)) {
            throw ApiException.invalid("logprobs", "'logprobs' must be in [0, " + SamplingParams.MAX_TOP_LOGPROBS
                    + "], was " + logprobs);
        }
        return logprobs == null ? 0 : logprobs;
    }

    void refuseUnsupported() {
        if (Boolean.TRUE.equals(echo)) {
            throw ApiException.invalid("echo", "'echo' is not supported: prompt tokens get no logprobs here");
        }
        if (suffix != null && !suffix.isEmpty()) {
            throw ApiException.invalid("suffix", "'suffix' is not supported: these models do not fill in the middle");
        }
        if (bestOf != null && bestOf != 1) {
            throw ApiException.invalid("best_of", "'best_of' must be 1: this service returns one choice per request");
        }
    }
}
