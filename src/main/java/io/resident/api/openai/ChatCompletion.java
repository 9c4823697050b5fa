package io.resident.api.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.tools.ToolCall;
import java.util.List;

/** The answer of POST /v1/chat/completions without streaming ("object": "chat.completion"). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatCompletion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    /** @param logprobs null unless the request asked for logprobs */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Choice(int index, Message message, ChatLogprobs logprobs, String finishReason) {}

    /**
     * @param content      null when the reply only calls tools
     * @param refusal      always null: OpenAI's clients read the field
     * @param toolCalls    the calls, left out when there are none
     * @param functionCall the call, for a request in the legacy functions form
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Message(String role, String content, String refusal,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Call> toolCalls,
            @JsonInclude(JsonInclude.Include.NON_NULL) Function functionCall) {}

    /** A tool call as OpenAI writes it: {"id", "type": "function", "function": {"name", "arguments"}}. */
    record Call(String id, String type, Function function) {

        static Call of(ToolCall call) {
            return new Call(call.id(), "function", new Function(call.name(), call.arguments()));
        }
    }

    /** A function's name and its arguments as a JSON string; either is left out of a streamed fragment without it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Function(String name, String arguments) {}

    static ChatCompletion of(String id, long created, String model, Message message, ChatLogprobs logprobs,
            String finishReason, Usage usage) {
        return new ChatCompletion(id, "chat.completion", created, model,
                List.of(new Choice(0, message, logprobs, finishReason)), usage);
    }

    /** The assistant's message: the text, and the calls in the form the request used (tools, or legacy functions). */
    static Message message(String text, List<ToolCall> calls, boolean legacy) {
        String content = text.isEmpty() && !calls.isEmpty() ? null : text;
        if (legacy) {
            return new Message("assistant", content, null, null,
                    calls.isEmpty() ? null : new Function(calls.get(0).name(), calls.get(0).arguments()));
        }
        return new Message("assistant", content, null, calls.stream().map(Call::of).toList(), null);
    }
}
