package io.resident.chat;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.ChatMemory;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import io.resident.tokenizer.Message;
import java.util.List;

/**
 * One conversation the server remembers: a langchain4j message window of the last {@code window} messages over the
 * {@link SessionStore}, and a system prompt kept apart from it (it never counts against the window and is never
 * evicted). At most one connection of this instance owns a session at a time; a session without an owner is idle
 * and expires after the idle timeout. Reads and writes of the memory go to the store and may throw
 * {@link SessionStoreUnavailableException}. Thread-safe.
 */
public final class ChatSession {

    /**
     * What a prompt is built from.
     *
     * @param systemPrompt the system prompt, null when none is set
     * @param messages     the window, oldest first: user and assistant messages
     */
    public record Conversation(String systemPrompt, List<Message> messages) {}

    private final String id;
    private final int window;
    private final SessionStore store;
    private final ChatMemory memory;
    private String owner;
    private long lastActiveNanos;

    ChatSession(String id, int window, SessionStore store, long nowNanos) {
        this.id = id;
        this.window = window;
        this.store = store;
        this.memory = MessageWindowChatMemory.builder().id(id).maxMessages(window).chatMemoryStore(store).build();
        this.lastActiveNanos = nowNanos;
    }

    public String id() {
        return id;
    }

    /** The most messages the memory keeps. */
    public int window() {
        return window;
    }

    public Conversation conversation() {
        return new Conversation(store.systemPrompt(id), memory.messages().stream().map(ChatSession::message).toList());
    }

    /** Messages in the window now. */
    public int size() {
        return memory.messages().size();
    }

    /**
     * A finished turn enters the window in one write (the oldest messages leave as needed); returns the window's size.
     * (ChatMemory.add would write the two messages one at a time.)
     */
    public int addTurn(String user, String reply) {
        return store.appendTurn(id, UserMessage.from(user), AiMessage.from(reply), window);
    }

    /** Empties the window; the system prompt stays. */
    public void clear() {
        memory.clear();
    }

    /** Sets the system prompt; blank removes it. */
    public void systemPrompt(String prompt) {
        store.systemPrompt(id, prompt == null || prompt.isBlank() ? null : prompt);
    }

    public String systemPrompt() {
        return store.systemPrompt(id);
    }

    /** Whether the connection with this id owns the session. */
    public synchronized boolean ownedBy(String connectionId) {
        return connectionId.equals(owner);
    }

    /** Marks activity now (a frame from its connection). */
    public synchronized void touch(long nowNanos) {
        lastActiveNanos = nowNanos;
    }

    /** Gives the session to a connection; returns the connection that owned it before, or null. */
    synchronized String attach(String connectionId, long nowNanos) {
        String previous = owner;
        owner = connectionId;
        lastActiveNanos = nowNanos;
        return previous;
    }

    /** The connection went away: the session is idle from now on, unless another connection has taken it since. */
    synchronized void detach(String connectionId, long nowNanos) {
        if (connectionId.equals(owner)) {
            owner = null;
            lastActiveNanos = nowNanos;
        }
    }

    /** A connection elsewhere took the session: it has no owner here any more; returns the owner it had, or null. */
    synchronized String takenElsewhere(long nowNanos) {
        String previous = owner;
        owner = null;
        lastActiveNanos = nowNanos;
        return previous;
    }

    synchronized boolean owned() {
        return owner != null;
    }

    /** How long the session has had no connection and no activity; zero while a connection owns it. */
    synchronized long idleNanos(long nowNanos) {
        return owner != null ? 0 : nowNanos - lastActiveNanos;
    }

    private static Message message(ChatMessage message) {
        return switch (message) {
            case UserMessage user -> new Message("user", user.singleText());
            case AiMessage ai -> new Message("assistant", ai.text());
            default -> throw new IllegalStateException("a chat session holds only user and assistant messages, not " + message.type());
        };
    }
}
