package io.resident.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Calls read out of a call body while it is still being written: once a call object's name is known and its
 * arguments object begins, the call opens, and its arguments follow as they come (whitespace between JSON tokens
 * left out), up to the brace that closes them. A body whose calls do not start that way ("arguments" first, or as a
 * string) lets nothing out here and is read whole when it ends. One per call body; not thread-safe.
 */
final class StreamedCalls {

    /** A call object's start up to its arguments' opening brace, which it does not take. */
    private static final Pattern HEAD = Pattern.compile(
            "\\{\\s*\"name\"\\s*:\\s*\"([^\"\\\\]*)\"\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*(?=\\{)");

    /** Where reading resumes in the body. */
    private int at;
    private boolean inArguments;
    private boolean inString;
    private boolean escaped;
    private int depth;
    private int opened;

    /** What the body, read up to {@code end}, lets out beyond what it already has. */
    List<ToolCallParser.Piece> read(CharSequence body, int end) {
        List<ToolCallParser.Piece> out = new ArrayList<>();
        while (true) {
            if (!inArguments) {
                Matcher head = HEAD.matcher(body).region(at, end);
                if (!head.find()) {
                    return out;
                }
                out.add(new ToolCallParser.Opened(head.group(1)));
                opened++;
                at = head.end();
                inArguments = true;
            }
            StringBuilder fragment = new StringBuilder();
            while (at < end && inArguments) {
                char c = body.charAt(at++);
                if (inString) {
                    fragment.append(c);
                    inString = escaped || c != '"';
                    escaped = !escaped && c == '\\';
                } else if (!Character.isWhitespace(c)) {
                    fragment.append(c);
                    inString = c == '"';
                    depth += c == '{' || c == '[' ? 1 : c == '}' || c == ']' ? -1 : 0;
                    inArguments = depth > 0;
                }
            }
            if (!fragment.isEmpty()) {
                out.add(new ToolCallParser.Arguments(fragment.toString()));
            }
            if (inArguments) {
                return out;
            }
        }
    }

    /** Calls this body has opened so far. */
    int opened() {
        return opened;
    }
}
