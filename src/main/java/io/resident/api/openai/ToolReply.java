package io.resident.api.openai;

import io.resident.engine.FinishReason;
import io.resident.engine.GenerationEvent.Token;
import io.resident.tokenizer.Tokenizer;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolCallParser;
import io.resident.tools.ToolDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One reply read as OpenAI's chat answer: its text, and, when the request gave the model tools, the calls in the
 * family's format taken out of the text, numbered and given ids as they complete. Used by one thread.
 */
final class ToolReply {

    /** What the reply adds to the answer: content, or one call. */
    sealed interface Part {}

    record Text(String text) implements Part {}

    /** @param index the call's place among the reply's calls, from 0 */
    record Called(int index, ToolCall call) implements Part {}

    private final ToolCallParser parser;
    private final Map<Integer, String> markup;
    private final boolean parallel;
    private final boolean legacy;
    private int calls;

    private ToolReply(ToolCallParser parser, Map<Integer, String> markup, boolean parallel, boolean legacy) {
        this.parser = parser;
        this.markup = markup;
        this.parallel = parallel;
        this.legacy = legacy;
    }

    /** The reader of one reply: a plain one unless the request lets the model call tools. */
    static ToolReply of(ToolUse use, Tokenizer tokenizer) {
        if (!use.active()) {
            return new ToolReply(null, Map.of(), false, use.legacy());
        }
        ToolCallParser parser = ToolCallParser.of(tokenizer.toolFormat().orElseThrow(),
                use.tools().stream().map(ToolDefinition::name).collect(Collectors.toSet()));
        return new ToolReply(parser, tokenizer.toolMarkup(), use.parallel() && !use.legacy(), use.legacy());
    }

    List<Part> token(Token token) {
        String text = markup.getOrDefault(token.id(), "") + token.text();
        return parser == null ? text(text) : parts(parser.push(text));
    }

    /** The end of the reply, with the text the engine held back until then. */
    List<Part> end(String tail) {
        if (parser == null) {
            return text(tail);
        }
        List<Part> out = new ArrayList<>(parts(parser.push(tail)));
        out.addAll(parts(parser.finish()));
        return out;
    }

    /** Whether the answer names its call function_call (the legacy form) rather than tool_calls. */
    boolean legacy() {
        return legacy;
    }

    /** tool_calls (function_call in the legacy form) once the reply called a tool, else the engine's reason. */
    String finishReason(FinishReason reason) {
        return calls > 0 && reason != FinishReason.CANCELLED ? (legacy ? "function_call" : "tool_calls") : Replies.finishReason(reason);
    }

    private static List<Part> text(String text) {
        return text.isEmpty() ? List.of() : List.of(new Text(text));
    }

    /** Calls past the first are left out when the request asked for one call at most (parallel_tool_calls false). */
    private List<Part> parts(List<ToolCallParser.Piece> pieces) {
        List<Part> out = new ArrayList<>();
        for (ToolCallParser.Piece piece : pieces) {
            switch (piece) {
                case ToolCallParser.Content c -> out.add(new Text(c.text()));
                case ToolCallParser.Call c -> {
                    if (parallel || calls == 0) {
                        out.add(new Called(calls++, new ToolCall(Ids.call(), c.name(), c.arguments())));
                    }
                }
            }
        }
        return out;
    }
}
