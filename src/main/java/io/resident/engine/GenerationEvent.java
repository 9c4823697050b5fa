package io.resident.engine;

import java.time.Duration;
import java.util.List;

/** What a {@link TokenStream} yields: tokens, then exactly one {@link Done} or {@link Error}. */
public sealed interface GenerationEvent {

    /**
     * One generated token.
     *
     * @param id      the token id
     * @param text    the text this token made final: possibly empty while a multi-byte character or a possible
     *                stop string is incomplete; all texts of a reply plus {@link Done#tail()} join to its text
     * @param logprob the model's log-probability of this token (log-softmax of the raw logits)
     * @param top     the most likely alternatives, most likely first, when the request asked for top_logprobs
     */
    record Token(int id, String text, float logprob, List<Alternative> top) implements GenerationEvent {}

    /** A possible token at one position and its log-probability. */
    record Alternative(int id, float logprob) {}

    /**
     * The reply ended.
     *
     * @param reason           stop, length or cancelled
     * @param tail             text held back until the end (an unfinished stop-string prefix or character) that
     *                         follows the last token's text; usually empty
     * @param promptTokens     prompt length in tokens
     * @param cachedTokens     of those, tokens whose keys and values came from the prefix cache
     * @param completionTokens tokens generated, a stop id included
     * @param timeToFirstToken from submission (queue wait included) to the first token; zero if there was none
     * @param duration         from submission to the end
     * @param tokensPerSecond  decode speed after the first token; 0 with fewer than two tokens
     */
    record Done(
            FinishReason reason,
            String tail,
            int promptTokens,
            int cachedTokens,
            int completionTokens,
            Duration timeToFirstToken,
            Duration duration,
            double tokensPerSecond)
            implements GenerationEvent {}

    /** The engine failed this request (a step it was in threw, or the engine died); nothing more follows. */
    record Error(Throwable cause) implements GenerationEvent {}
}
