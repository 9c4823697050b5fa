package io.resident.engine;

import io.resident.grammar.Grammar;
import io.resident.model.GenerationDefaults;
import java.util.List;

/**
 * How one request picks its tokens and when it stops. Plain values: the caller fills in the model's defaults
 * (generation_config.json) before building. {@link #builder()} starts from neutral values (temperature 1, no
 * top-k/top-p cut, no penalties, no stop strings, no token limit other than the context).
 *
 * @param temperature       0 picks the most likely token (greedy); above 0 divides the logits before sampling
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param minP              keep tokens at least minP times as likely as the most likely one; 0 keeps all
 * @param repetitionPenalty HF semantics over prompt and generated ids: positive logits divided, negative
 *                          multiplied; 1 is off
 * @param presencePenalty   OpenAI semantics, subtracted once from the logit of every id generated so far
 * @param frequencyPenalty  OpenAI semantics, subtracted from an id's logit once per time it was generated
 * @param seed              same seed, same prompt, same output; null draws a random seed
 * @param maxTokens         the most tokens to generate; the context end stops a reply earlier
 * @param stop              texts that end the reply; the reply's text ends just before the first one found
 * @param topLogprobs       how many most likely alternatives each token reports with their log-probabilities
 * @param ignoreEos         keep generating past the model's stop ids, to max tokens (vLLM's ignore_eos, for benchmarks)
 * @param grammar           what the output must be (response_format, a forced tool call): tokens that cannot continue
 *                          it are masked out at every step, and the reply ends where it ends; null for free text
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        double presencePenalty,
        double frequencyPenalty,
        Long seed,
        int maxTokens,
        List<String> stop,
        int topLogprobs,
        boolean ignoreEos,
        Grammar grammar) {

    /** The most alternatives a token reports, as OpenAI's API allows. */
    public static final int MAX_TOP_LOGPROBS = 20;
    /** The most stop strings a request may set, as OpenAI's API allows, and the longest each may be (characters). */
    public static final int MAX_STOP_STRINGS = 4;
    public static final int MAX_STOP_LENGTH = 256;

    public SamplingParams {
        require(temperature >= 0 && temperature <= 2, "temperature must be in [0, 2], was " + temperature);
        require(topK >= 0, "top_k must be >= 0, was " + topK);
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1], was " + topP);
        require(minP >= 0 && minP <= 1, "min_p must be in [0, 1], was " + minP);
        require(Double.isFinite(repetitionPenalty) && repetitionPenalty > 0,
                "repetition_penalty must be > 0, was " + repetitionPenalty);
        require(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty must be in [-2, 2], was " + presencePenalty);
        require(frequencyPenalty >= -2 && frequencyPenalty <= 2,
                "frequency_penalty must be in [-2, 2], was " + frequencyPenalty);
        require(maxTokens >= 1, "max_tokens must be >= 1, was " + maxTokens);
        stop = stop == null ? List.of() : List.copyOf(stop);
        require(stop.stream().noneMatch(String::isEmpty), "stop strings must not be empty");
        require(stop.size() <= MAX_STOP_STRINGS && stop.stream().allMatch(s -> s.length() <= MAX_STOP_LENGTH),
                "stop must hold at most " + MAX_STOP_STRINGS + " strings of at most " + MAX_STOP_LENGTH
                        + " characters each; it has " + stop.size() + ", the longest of "
                        + stop.stream().mapToInt(String::length).max().orElse(0));
        require(topLogprobs >= 0 && topLogprobs <= MAX_TOP_LOGPROBS,
                "top_logprobs must be in [0, " + MAX_TOP_LOGPROBS + "], was " + topLogprobs);
    }

    /** Greedy decoding of at most maxTokens tokens: the reference's output, used by warm-up and tests. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding a checkpoint's defaults (generation_config.json), as transformers' generate applies them:
     * its temperature, top-k and top-p when it sets do_sample, else greedy; its repetition penalty and
     * max_new_tokens. A request's own values are set on top.
     */
    public static Builder builder(GenerationDefaults defaults) {
        Builder builder = builder().repetitionPenalty(defaults.repetitionPenalty());
        if (defaults.doSample()) {
            builder.temperature(defaults.temperature()).topK(defaults.topK()).topP(defaults.topP());
        } else {
            builder.temperature(0);
        }
        if (defaults.maxNewTokens() > 0) {
            builder.maxTokens(defaults.maxNewTokens());
        }
        return builder;
    }

    /** These settings with the output held to {@code grammar} (null: free text). */
    public SamplingParams withGrammar(Grammar grammar) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed,
                maxTokens, stop, topLogprobs, ignoreEos, grammar);
    }

    boolean greedy() {
        return temperature == 0;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Neutral values until set. */
    public static final class Builder {
        private double temperature = 1;
        private int topK;
        private double topP = 1;
        private double minP;
        private double repetitionPenalty = 1;
        private double presencePenalty;
        private double frequencyPenalty;
        private Long seed;
        private int maxTokens = Integer.MAX_VALUE;
        private List<String> stop = List.of();
        private int topLogprobs;
        private boolean ignoreEos;
        private Grammar grammar;

        private Builder() {}

        public Builder temperature(double temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder topP(double topP) {
            this.topP = topP;
            return this;
        }

        public Builder minP(double minP) {
            this.minP = minP;
            return this;
        }

        public Builder repetitionPenalty(double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder presencePenalty(double presencePenalty) {
            this.presencePenalty = presencePenalty;
            return this;
        }

        public Builder frequencyPenalty(double frequencyPenalty) {
            this.frequencyPenalty = frequencyPenalty;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder stop(List<String> stop) {
            this.stop = stop;
            return this;
        }

        public Builder topLogprobs(int topLogprobs) {
            this.topLogprobs = topLogprobs;
            return this;
        }

        public Builder ignoreEos(boolean ignoreEos) {
            this.ignoreEos = ignoreEos;
            return this;
        }

        public Builder grammar(Grammar grammar) {
            this.grammar = grammar;
            return this;
        }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                    seed, maxTokens, stop, topLogprobs, ignoreEos, grammar);
        }
    }
}
