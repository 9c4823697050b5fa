package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.api.ApiException;
import io.resident.tokenizer.Message;
import java.util.ArrayList;
import java.util.List;

/** A POST /v1/chat/completions body; fields left out are null and take the model's defaults. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record ChatRequest(
        String model,
        List<ChatMessage> messages,
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
        Integer maxCompletionTokens,
        Boolean logprobs,
        Integer topLogprobs,
        Boolean stream,
        StreamOptions streamOptions,
        JsonNode logitBias,
        JsonNode tools,
        JsonNode functions,
        JsonNode responseFormat)
        implements SamplingFields {

    /** @param content a string, or an array of {"type": "text", "text": ...} parts */
    record ChatMessage(String role, JsonNode content) {}

    /** The conversation for the chat template: "developer" is OpenAI's newer name for "system", text parts joined by newlines as vLLM joins them. */
    List<Message> conversation() {
        return conversation(messages);
    }

    static List<Message> conversation(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array of {role, content} objects");
        }
        List<Message> conversation = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String at = "messages[" + i + "]";
            if (m == null) {
                throw ApiException.invalid(at, "'" + at + "' must be an object with role and content");
            }
            conversation.add(new Message(role(m.role(), at + ".role"), text(m.content(), at + ".content")));
        }
        return conversation;
    }

    private static String role(String role, String param) {
        if (role == null) {
            throw ApiException.invalid(param, "'" + param + "' is required: system, developer, user or assistant");
        }
        return switch (role) {
            case "system", "user", "assistant" -> role;
            case "developer" -> "system";
            case "tool", "function" -> throw ApiException.invalid(param,
                    "'" + param + "' is " + role + ": this service does no tool calling, so it takes no tool results");
            default -> throw ApiException.invalid(param, "'" + param + "' is '" + role + "'; it must be system, developer, user or assistant");
        };
    }

    private static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            throw ApiException.invalid(param, "'" + param + "' is required: a string or an array of text parts");
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw ApiException.invalid(param, "'" + param + "' must be a string or an array of text parts");
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            String at = param + "[" + i + "]";
            if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                throw ApiException.invalid(at, "'" + at + "' must be {\"type\": \"text\", \"text\": \"...\"}: this service "
                        + "reads text only, not " + (part.has("type") ? part.get("type") : "untyped") + " parts");
            }
            texts.add(part.get("text").asText());
        }
        return String.join("\n", texts);
    }

    /** max_completion_tokens is OpenAI's current name; max_tokens the older one, still what most clients send. */
    TokenLimit tokenLimit() {
        return maxCompletionTokens != null ? new TokenLimit("max_completion_tokens", maxCompletionTokens)
                : new TokenLimit("max_tokens", maxTokens);
    }

    /** The alternatives per token to report; top_logprobs without logprobs is an error, as in OpenAI's API. */
    int alternatives() {
        if (topLogprobs != null && !Boolean.TRUE.equals(logprobs)) {
            throw ApiException.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        return topLogprobs == null ? 0 : topLogprobs;
    }

    boolean wantsLogprobs() {
        return Boolean.TRUE.equals(logprobs);
    }

    /** Features a client may ask for that this service cannot honour: refused rather than silently ignored. */
    void refuseUnsupported() {
        if (Sampling.present(tools) && !(tools.isArray() && tools.isEmpty())) {
            throw ApiException.invalid("tools", "'tools' is not supported: this service does no tool calling");
        }
        if (Sampling.present(functions) && !(functions.isArray() && functions.isEmpty())) {
            throw ApiException.invalid("functions", "'functions' is not supported: this service does no function calling");
        }
        if (Sampling.present(responseFormat) && !responseFormat.path("type").asText().equals("text")) {
            throw ApiException.invalid("response_format", "'response_format' " + responseFormat.path("type")
                    + " is not supported: this service answers in plain text only");
        }
    }
}
