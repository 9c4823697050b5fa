package io.resident.api.openai;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** The answer of POST /v1/chat/completions without streaming ("object": "chat.completion"). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatCompletion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    /** @param logprobs null unless the request asked for logprobs */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Choice(int index, Message message, ChatLogprobs logprobs, String finishReason) {}

    /** @param refusal always null: OpenAI's clients read the field */
    record Message(String role, String content, String refusal) {}

    static ChatCompletion of(String id, long created, String model, String text, ChatLogprobs logprobs,
            String finishReason, Usage usage) {
        return new ChatCompletion(id, "chat.completion", created, model,
                List.of(new Choice(0, new Message("assistant", text, null), logprobs, finishReason)), usage);
    }
}
