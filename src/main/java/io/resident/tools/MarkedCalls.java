package io.resident.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Calls that follow a marker and end at a closing marker or with the reply; text around them is content, less the
 * whitespace that only separates it from a call.
 */
final class MarkedCalls implements ToolCallParser {

    private final String open;
    private final String close;
    private final boolean jsonOpensReply;
    private final Function<String, List<Call>> calls;

    private final StringBuilder pending = new StringBuilder();
    private final StringBuilder body = new StringBuilder();
    private String opener; // the markup that opened the call being read; null outside a call
    private StreamedCalls streamed;
    private boolean started;
    private int made;

    /**
     * @param open           the marker before a call (or calls)
     * @param close          the marker after one; null: the calls run to the end of the reply
     * @param jsonOpensReply whether a reply that opens with '{' is a call without the marker (Llama 3.1)
     * @param calls          the calls in a body, null when it holds none
     */
    MarkedCalls(String open, String close, boolean jsonOpensReply, Function<String, List<Call>> calls) {
        this.open = open;
        this.close = close;
        this.jsonOpensReply = jsonOpensReply;
        this.calls = calls;
    }

    @Override
    public List<Piece> push(String text) {
        List<Piece> out = new ArrayList<>();
        if (opener != null) {
            body.append(text);
            readCall(out);
        } else {
            pending.append(text);
            scan(out);
        }
        return out;
    }

    @Override
    public List<Piece> finish() {
        List<Piece> out = new ArrayList<>();
        if (opener != null) {
            String text = body.toString();
            out.addAll(streamed.read(body, body.length()));
            addCalls(text, opener + text, out);
        } else {
            content(pending.toString(), out);
        }
        pending.setLength(0);
        body.setLength(0);
        opener = null;
        return out;
    }

    private void scan(List<Piece> out) {
        if (!started && jsonOpensReply) {
            String text = pending.toString().stripLeading();
            if (text.isEmpty()) {
                return;
            }
            if (text.startsWith("{")) {
                startCall("", text);
                readCall(out);
                return;
            }
        }
        int at = pending.indexOf(open);
        if (at >= 0) {
            content(pending.substring(0, at).stripTrailing(), out);
            startCall(open, pending.substring(at + open.length()));
            readCall(out);
            return;
        }
        int held = held();
        content(pending.substring(0, held), out);
        pending.delete(0, held);
    }

    /** Where the text that may still belong to a call begins: a prefix of the marker and the whitespace before it. */
    private int held() {
        int from = pending.length();
        for (int k = Math.max(0, pending.length() - open.length() + 1); k < pending.length(); k++) {
            if (open.startsWith(pending.substring(k))) {
                from = k;
                break;
            }
        }
        while (from > 0 && Character.isWhitespace(pending.charAt(from - 1))) {
            from--;
        }
        return from;
    }

    private void startCall(String markup, String rest) {
        opener = markup;
        started = true;
        pending.setLength(0);
        body.setLength(0);
        body.append(rest);
        streamed = new StreamedCalls();
    }

    /** Lets out what the call body now holds, and ends the call at its closing marker. */
    private void readCall(List<Piece> out) {
        int end = close == null ? -1 : body.indexOf(close);
        out.addAll(streamed.read(body, end < 0 ? body.length() : end));
        if (end < 0) {
            return;
        }
        String text = body.substring(0, end);
        String rest = body.substring(end + close.length());
        addCalls(text, opener + text + close, out);
        opener = null;
        body.setLength(0);
        pending.append(rest);
        scan(out);
    }

    /** The body's calls unless they went out as it was read; when it holds none, the markup and body, as content. */
    private void addCalls(String text, String raw, List<Piece> out) {
        if (streamed.opened() > 0) {
            made += streamed.opened();
            return;
        }
        List<Call> found = calls.apply(text);
        if (found == null) {
            content(raw, out);
        } else {
            out.addAll(found);
            made += found.size();
        }
    }

    private void content(String text, List<Piece> out) {
        if (text.isEmpty() || (made > 0 && text.isBlank())) {
            return;
        }
        out.add(new Content(text));
        started |= !text.isBlank();
    }
}
