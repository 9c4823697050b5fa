package io.resident.tools;

import java.util.List;
import java.util.Set;

/**
 * Reads a reply's tool calls out of its text as the text streams in: what is not a call comes out as content as
 * soon as it cannot be the start of one; a JSON call opens as soon as its name is known and its arguments follow as
 * they are written, and a call that cannot be read that way comes out whole once it is complete; markup never comes
 * out as content unless what followed it is not a call after all. One parser per reply; not thread-safe.
 */
public interface ToolCallParser {

    /** What the parser lets out: text to show, or a whole call. */
    sealed interface Piece {}

    /** Reply text that is no call. */
    record Content(String text) implements Piece {}

    /** A complete call; its arguments are a JSON object as text. */
    record Call(String name, String arguments) implements Piece {}

    /** A call whose arguments follow in {@link Arguments} pieces. */
    record Opened(String name) implements Piece {}

    /** The next text of the last opened call's arguments. */
    record Arguments(String text) implements Piece {}

    /** The next piece of the reply's text; returns what can be let out now. */
    List<Piece> push(String text);

    /** The reply has ended: the rest, with a call left open parsed as far as it went. */
    List<Piece> finish();

    /** The parser of a family's format; ChatGLM3's recognizes its calls by the names of the given tools. */
    static ToolCallParser of(ToolFormat format, Set<String> toolNames) {
        return switch (format) {
            case TAGGED_JSON -> new MarkedCalls("<tool_call>", "</tool_call>", false, CallJson::one);
            case BARE_JSON -> new MarkedCalls("<|python_tag|>", null, true, CallJson::separated);
            case MISTRAL -> new MarkedCalls("[TOOL_CALLS]", null, false, CallJson::list);
            case CHATGLM3 -> new ChatGlm3Calls(toolNames);
        };
    }
}
