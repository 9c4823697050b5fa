package io.resident.api.ws;

/**
 * Cuts a reply's decoded text into delta frames. {@link Mode#TOKEN} passes every decoded piece on as it comes;
 * {@link Mode#SEMANTIC} holds text until a sentence or clause ends (。！？，；.!?,; or a line break) or
 * {@value #SEMANTIC_MAX_HELD} characters are held, so that Chinese arrives in readable phrases rather than one
 * character at a time. Not thread-safe: one per reply.
 */
final class StreamBuffer {

    /** How a reply is streamed, as the chat frame's options.stream names it. */
    enum Mode {
        TOKEN("token"),
        SEMANTIC("semantic");

        final String wire;

        Mode(String wire) {
            this.wire = wire;
        }

        static Mode of(String wire) {
            for (Mode mode : values()) {
                if (mode.wire.equals(wire)) {
                    return mode;
                }
            }
            return null;
        }
    }

    /** Semantic mode sends what it holds once it reaches this many characters (code points), boundary or not. */
    static final int SEMANTIC_MAX_HELD = 15;
    private static final String BOUNDARIES = "。！？，；.!?,;\n";

    private final Mode mode;
    private final StringBuilder held = new StringBuilder();

    StreamBuffer(Mode mode) {
        this.mode = mode;
    }

    /** Adds decoded text; returns what to send now (possibly empty). */
    String push(String text) {
        if (mode == Mode.TOKEN) {
            return text;
        }
        held.append(text);
        int cut = lastBoundary() + 1;
        if (held.codePointCount(cut, held.length()) >= SEMANTIC_MAX_HELD) {
            cut = held.length();
        }
        String out = held.substring(0, cut);
        held.delete(0, cut);
        return out;
    }

    /** The reply ended: everything still held. */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    private int lastBoundary() {
        for (int i = held.length() - 1; i >= 0; i--) {
            if (BOUNDARIES.indexOf(held.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }
}
