package io.resident.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
import io.resident.tokenizer.Tokenizer;
import java.util.List;

/**
 * One server-sent event of a streamed chat completion ("object": "chat.completion.chunk"): the assistant's role
 * first, then the text as it comes, a last chunk with finish_reason and, when asked, one with the usage and no choices.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatCompletionChunk(String id, String object, long created, String model, List<Choice> choices,
        @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Choice(int index, Delta delta, ChatLogprobs logprobs, String finishReason) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Delta(String role, String content) {}

    /** The chunks of one streamed reply. */
    static Replies.Chunks stream(String id, long created, String model, Tokenizer tokenizer, boolean logprobs,
            boolean includeUsage) {
        return new Replies.Chunks() {
            @Override
            public List<Object> start() {
                return List.of(chunk(new Delta("assistant", ""), null, null));
            }

            @Override
            public List<Object> token(Token token) {
                if (token.text().isEmpty() && !logprobs) {
                    return List.of();
                }
                ChatLogprobs entry = logprobs ? new ChatLogprobs(List.of(ChatLogprobs.entry(token, tokenizer))) : null;
                return List.of(chunk(new Delta(null, token.text()), entry, null));
            }

            @Override
            public List<Object> done(Done done) {
                Delta last = new Delta(null, done.tail().isEmpty() ? null : done.tail());
                Object finish = chunk(last, null, Replies.finishReason(done.reason()));
                return includeUsage
                        ? List.of(finish, new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(), Usage.of(done)))
                        : List.of(finish);
            }

            private ChatCompletionChunk chunk(Delta delta, ChatLogprobs entry, String finishReason) {
                return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
                        List.of(new Choice(0, delta, entry, finishReason)), null);
            }
        };
    }
}
