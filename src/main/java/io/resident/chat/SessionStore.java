package io.resident.chat;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.store.memory.chat.ChatMemoryStore;
import java.util.function.Consumer;

/**
 * Where chat sessions keep their memory: langchain4j's {@link ChatMemoryStore} (a session's messages, by session id)
 * plus what a session holds beside them. Every method throws {@link SessionStoreUnavailableException} when the store
 * cannot be reached, and changes nothing then.
 */
public interface SessionStore extends ChatMemoryStore {

    /** Whether sessions outlive this instance and are seen by every replica (then they expire by themselves). */
    boolean shared();

    /** Whether the session is held. */
    boolean exists(String id);

    /** Starts an empty session, or restarts the idle timeout of a held one. */
    void touch(String id);

    /** Forgets the session, memory and all. */
    void remove(String id);

    /** The system prompt, or null. */
    String systemPrompt(String id);

    /** Sets the system prompt; null removes it. */
    void systemPrompt(String id, String prompt);

    /**
     * A user message and its reply enter the window in one atomic write, so writers never interleave half a turn; the
     * oldest messages leave beyond {@code window}. Returns the window's size.
     */
    int appendTurn(String id, ChatMessage user, ChatMessage reply, int window);

    /** Tells the other instances that a connection here opened the session. */
    void announceOpened(String id);

    /** What runs when another instance announces that it opened a session. */
    void onOpenedElsewhere(Consumer<String> sessionIds);

    /** What the store is, once it answered; throws SessionStoreUnavailableException when it does not. */
    String check();
}
