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
 * family's format taken out of the text, numbered and given ids as they open, their arguments as they are written
 * (or whole, for a call that can only be read once complete). Used by one thread.
 */
final class ToolReply {

    /** What the reply adds to the answer: content, or one call. */
    sealed interface Part {}

    record Text(String text) implements Part {}

    /** A whole call. @param index the call's place among the reply's calls, from 0 */
    record Called(int index, ToolCall call) implements Part {}

    /** A call whose arguments follow in {@link Argued} parts. */
    record Opened(int index, String id, String name) implements Part {}

    /** The next text of the call's arguments. */
    record Argued(int index, String text) implements Part {}

    private final ToolCallParser parser;
    private final Map<Integer, String> markup;
    private final boolean parallel;
    private final boolean legacy;
    private int calls;
    /** Whether the last opened call is kept (all are, or only the first without parallel calls). */
    private boolean keeping;

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
                case ToolCallParser.Opened o -> {
                    keeping = parallel || calls == 0;
                    if (keeping) {
                        out.add(new Opened(calls++, Ids.call(), o.name()));
                    }
                }
                case ToolCallParser.Arguments a -> {
                    if (keeping) {
                        out.add(new Argued(calls - 1, a.text()));
                    }
                }
            }
        }
        return out;
    }

    /** The calls among a whole reply's parts (their indexes are their places), each with its arguments joined. */
    static List<ToolCall> calls(List<Part> parts) {
        List<ToolCall> calls = new ArrayList<>();
        List<StringBuilder> arguments = new ArrayList<>();
        for (Part part : parts) {
            switch (part) {
                case Called c -> {
                    calls.add(c.call());
                    arguments.add(null);
                }
                case Opened o -> {
                    calls.add(new ToolCall(o.id(), o.name(), null));
                    arguments.add(new StringBuilder());
                }
                case Argued a -> arguments.get(a.index()).append(a.text());
                case Text t -> { }
            }
        }
        for (int i = 0; i < calls.size(); i++) {
            if (arguments.get(i) != null) {
                calls.set(i, new ToolCall(calls.get(i).id(), calls.get(i).name(), arguments.get(i).toString()));
            }
        }
        return calls;
    }
}
