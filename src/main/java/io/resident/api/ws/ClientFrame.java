package io.resident.api.ws;

/** What a client may send: one JSON object per text frame, told apart by its "type". */
sealed interface ClientFrame {

    /** A user message to answer. */
    record Chat(String content, ChatOptions options) implements ClientFrame {}

    /** Sets the session's system prompt (blank removes it). */
    record SystemPrompt(String content) implements ClientFrame {}

    /** Empties the session's memory. */
    record Reset() implements ClientFrame {}

    /** Stops the running reply. */
    record Cancel() implements ClientFrame {}
}
