package io.resident.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.resident.api.ApiException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.tokenizer.Message;
import io.resident.tools.ToolCall;
import java.io.IOException;
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
        JsonNode toolChoice,
        Boolean parallelToolCalls,
        JsonNode functions,
        JsonNode functionCall,
        JsonNode responseFormat,
        Boolean ignoreEos)
        implements SamplingFields {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param content      a string, or an array of {"type": "text", "text": ...} parts; null in an assistant turn that
     *                     only calls tools
     * @param toolCalls    an assistant turn's calls: [{"id", "type": "function", "function": {"name", "arguments"}}]
     * @param toolCallId   the call a tool turn answers
     * @param name         a legacy function turn's function
     * @param functionCall a legacy assistant turn's call: {"name", "arguments"}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatMessage(String role, JsonNode content, JsonNode toolCalls, String toolCallId, String name, JsonNode functionCall) {

        ChatMessage(String role, JsonNode content) {
            this(role, content, null, null, null, null);
        }
    }

    ToolUse toolUse() {
        return ToolUse.of(this);
    }

    /**
     * The conversation for the chat template: "developer" is OpenAI's newer name for "system", text parts joined by
     * newlines as vLLM joins them; a tool turn must answer a call of the assistant turn before it, and legacy function
     * turns become tool turns answering the legacy call before them.
     */
    List<Message> conversation() {
        return conversation(messages);
    }

    static List<Message> conversation(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array of {role, content} objects");
        }
        List<Message> conversation = new ArrayList<>();
        List<ToolCall> open = List.of(); // the calls that tool turns may answer now
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String at = "messages[" + i + "]";
            if (m == null) {
                throw ApiException.invalid(at, "'" + at + "' must be an object with role and content");
            }
            Message message = switch (role(m.role(), at + ".role")) {
                case "assistant" -> assistant(m, at);
                case "tool" -> new Message("tool", text(m.content(), at + ".content"), List.of(), answered(m.toolCallId(), open, at));
                case "function" -> new Message("tool", text(m.content(), at + ".content"), List.of(), legacyAnswered(m.name(), open, at));
                case String role -> new Message(role, text(m.content(), at + ".content"));
            };
            if (!message.role().equals("tool")) {
                open = message.toolCalls();
            }
            conversation.add(message);
        }
        return conversation;
    }

    private static String role(String role, String param) {
        if (role == null) {
            throw ApiException.invalid(param, "'" + param + "' is required: system, developer, user, assistant or tool");
        }
        return switch (role) {
            case "system", "user", "assistant", "tool", "function" -> role;
            case "developer" -> "system";
            default -> throw ApiException.invalid(param, "'" + param + "' is '" + role + "'; it must be system, developer, user, assistant or tool");
        };
    }

    /** An assistant turn: text, tool calls, or both (content may then be null); a legacy function_call is one call. */
    private static Message assistant(ChatMessage m, String at) {
        List<ToolCall> calls = new ArrayList<>();
        if (Sampling.present(m.toolCalls())) {
            if (!m.toolCalls().isArray()) {
                throw ApiException.invalid(at + ".tool_calls", "'" + at + ".tool_calls' must be an array of calls");
            }
            for (int j = 0; j < m.toolCalls().size(); j++) {
                JsonNode call = m.toolCalls().get(j);
                String where = at + ".tool_calls[" + j + "]";
                if (!call.path("id").isTextual()) {
                    throw ApiException.invalid(where + ".id", "'" + where + ".id' is required: the id tool turns answer");
                }
                calls.add(call(call.path("function"), call.get("id").asText(), where + ".function"));
            }
        }
        if (Sampling.present(m.functionCall())) {
            calls.add(call(m.functionCall(), Ids.legacyCall(at), at + ".function_call"));
        }
        boolean noContent = m.content() == null || m.content().isNull();
        return new Message("assistant", noContent && !calls.isEmpty() ? null : text(m.content(), at + ".content"), calls, null);
    }

    private static ToolCall call(JsonNode function, String id, String at) {
        if (!function.path("name").isTextual()) {
            throw ApiException.invalid(at + ".name", "'" + at + ".name' is required: the function called");
        }
        JsonNode arguments = function.path("arguments");
        if (!arguments.isTextual() || !isJsonObject(arguments.asText())) {
            throw ApiException.invalid(at + ".arguments", "'" + at + ".arguments' must be a JSON object as a string, e.g. \"{\\\"city\\\": \\\"Paris\\\"}\"");
        }
        return new ToolCall(id, function.get("name").asText(), arguments.asText());
    }

    private static boolean isJsonObject(String text) {
        try {
            return JSON.readTree(text).isObject();
        } catch (IOException e) {
            return false;
        }
    }

    private static String answered(String toolCallId, List<ToolCall> open, String at) {
        if (toolCallId == null) {
            throw ApiException.invalid(at + ".tool_call_id", "'" + at + ".tool_call_id' is required: the id of the call this result answers");
        }
        if (open.stream().noneMatch(c -> toolCallId.equals(c.id()))) {
            throw ApiException.invalid(at + ".tool_call_id", "'" + at + ".tool_call_id' is '" + toolCallId
                    + "', which no tool call of the assistant message before it has");
        }
        return toolCallId;
    }

    private static String legacyAnswered(String name, List<ToolCall> open, String at) {
        if (name == null) {
            throw ApiException.invalid(at + ".name", "'" + at + ".name' is required: the function whose result this is");
        }
        return open.stream().filter(c -> name.equals(c.name())).map(ToolCall::id).reduce((a, b) -> b).orElseThrow(() ->
                ApiException.invalid(at + ".name", "'" + at + ".name' is '" + name + "', which the assistant message before it did not call"));
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
}
