package io.resident.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ChatGLM3's call: a reply whose metadata line names one of the tools, then {@code ```python\ntool_call(k=v)\n```},
 * read as THUDM's process_response reads it. Its decoder keeps a named metadata line in the text and drops an
 * empty one, so a reply is a call when its first line is a tool's name.
 */
final class ChatGlm3Calls implements ToolCallParser {

    private static final String CALL = "tool_call(";

    private final Set<String> toolNames;
    private final StringBuilder head = new StringBuilder();
    private final StringBuilder body = new StringBuilder();
    private String name;         // the tool the metadata line named; null until then
    private boolean plain;       // decided: no call

    ChatGlm3Calls(Set<String> toolNames) {
        this.toolNames = toolNames;
    }

    @Override
    public List<Piece> push(String text) {
        if (plain) {
            return text.isEmpty() ? List.of() : List.of(new Content(text));
        }
        if (name != null) {
            body.append(text);
            return List.of();
        }
        head.append(text);
        int newline = head.indexOf("\n");
        if (newline >= 0 && toolNames.contains(head.substring(0, newline).strip())) {
            name = head.substring(0, newline).strip();
            body.append(head, newline + 1, head.length());
            return List.of();
        }
        String line = head.toString();
        if (newline >= 0 || toolNames.stream().noneMatch(t -> (t + "\n").startsWith(line))) {
            plain = true;
            return List.of(new Content(line));
        }
        return List.of();
    }

    @Override
    public List<Piece> finish() {
        if (plain || (name == null && head.isEmpty())) {
            return List.of();
        }
        if (name == null) {
            return List.of(new Content(head.toString()));
        }
        String code = body.toString();
        int start = code.indexOf(CALL);
        int end = code.lastIndexOf(')');
        List<Piece> out = new ArrayList<>();
        try {
            if (start < 0 || end < start + CALL.length()) {
                throw new IllegalArgumentException("no tool_call(...)");
            }
            out.add(new Call(name, PythonLiterals.keywordArguments(code.substring(start + CALL.length(), end)).toString()));
        } catch (IllegalArgumentException e) {
            out.add(new Content(name + "\n" + code)); // not a call after all: the reply as it came
        }
        return out;
    }
}
