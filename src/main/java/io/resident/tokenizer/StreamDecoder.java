package io.resident.tokenizer;

/**
 * Turns a reply's ids into text as soon as the text is final: never half a UTF-8 character, and the pieces
 * returned join to exactly {@code decode(allIds)}, less the opening a chat format puts before every reply
 * (ChatGLM3's empty metadata line). One instance per reply, not thread-safe.
 */
public interface StreamDecoder {

    /** Adds one id; returns the text that became final (possibly empty). */
    String push(int id);

    /** Text still held back at the end of the reply. */
    String flush();
}
