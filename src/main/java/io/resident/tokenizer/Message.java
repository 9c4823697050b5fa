package io.resident.tokenizer;

import io.resident.tools.ToolCall;
import java.util.List;

/**
 * One chat turn as chat templates see it: role is system, user, assistant, tool (or a family's own, e.g. observation).
 *
 * @param content    the text; null for an assistant turn that only calls tools
 * @param toolCalls  the calls an assistant turn made, in order
 * @param toolCallId the call a tool turn answers (null elsewhere)
 */
public record Message(String role, String content, List<ToolCall> toolCalls, String toolCallId) {

    public Message {
        toolCalls = List.copyOf(toolCalls);
    }

    public Message(String role, String content) {
        this(role, content, List.of(), null);
    }
}
