package io.resident.chat;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.ChatMemory;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import io.resident.tokenizer.Message;
import java.util.List;

/**
 * One conversation the server remembers: a langchain4j message window of the last {@code window} messages, and a
 * system prompt kept apart from it (it never counts against the window and is never evicted). At most one
 * connection owns a session at a time; a session without an owner is idle and expires after the idle timeout.
 * Thread-safe.
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
    private final ChatMemory memory;
    private String systemPrompt;
    private String owner;
    private long lastActiveNanos;

    ChatSession(String id, int window, long nowNanos) {
        this.id = id;
        this.window = window;
        this.memory = MessageWindowChatMemory.builder().id(id).maxMessages(window).build();
        this.lastActiveNanos = nowNanos;
    }

    public String id() {
        return id;
    }

    /** The most messages the memory keeps. */
    public int window() {
        return window;
    }

    public synchronized Conversation conversation() {
        return new Conversation(systemPrompt, memory.messages().stream().map(ChatSession::message).toList());
    }

    /** Messages in the window now. */
    public synchronized int size() {
        return memory.messages().size();
    }

    /** A finished turn enters the window (the oldest messages leave as needed); returns the window's size. */
    public synchronized int addTurn(String user, String reply) {
        memory.add(UserMessage.from(user));
        memory.add(AiMessage.from(reply));
        return memory.messages().size();
    }

    /** Empties the window; the system prompt stays. */
    public synchronized void clear() {
        memory.clear();
    }

    /** Sets the system prompt; blank removes it. */
    public synchronized void systemPrompt(String prompt) {
        systemPrompt = prompt == null || prompt.isBlank() ? null : prompt;
    }

    public synchronized String systemPrompt() {
        return systemPrompt;
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
