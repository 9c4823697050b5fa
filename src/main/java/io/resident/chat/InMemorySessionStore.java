package io.resident.chat;

import dev.langchain4j.data.message.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** Sessions in this JVM's memory (RESIDENT_SESSION_STORE=memory): one instance's alone, gone with it. */
final class InMemorySessionStore implements SessionStore {

    private record Held(List<ChatMessage> messages, String systemPrompt) {
        static final Held EMPTY = new Held(List.of(), null);
    }

    private final Map<String, Held> held = new ConcurrentHashMap<>();

    @Override
    public boolean shared() {
        return false;
    }

    @Override
    public List<ChatMessage> getMessages(Object id) {
        return new ArrayList<>(held.getOrDefault((String) id, Held.EMPTY).messages());
    }

    @Override
    public void updateMessages(Object id, List<ChatMessage> messages) {
        held.compute((String) id, (key, old) -> new Held(List.copyOf(messages), old == null ? null : old.systemPrompt()));
    }

    @Override
    public void deleteMessages(Object id) {
        updateMessages(id, List.of());
    }

    @Override
    public boolean exists(String id) {
        return held.containsKey(id);
    }

    @Override
    public void touch(String id) {
        held.putIfAbsent(id, Held.EMPTY);
    }

    @Override
    public void remove(String id) {
        held.remove(id);
    }

    @Override
    public String systemPrompt(String id) {
        return held.getOrDefault(id, Held.EMPTY).systemPrompt();
    }

    @Override
    public void systemPrompt(String id, String prompt) {
        held.compute(id, (key, old) -> new Held(old == null ? List.of() : old.messages(), prompt));
    }

    @Override
    public int appendTurn(String id, ChatMessage user, ChatMessage reply, int window) {
        return held.compute(id, (key, old) -> {
            List<ChatMessage> messages = new ArrayList<>(old == null ? List.of() : old.messages());
            messages.add(user);
            messages.add(reply);
            return new Held(List.copyOf(messages.subList(Math.max(0, messages.size() - window), messages.size())),
                    old == null ? null : old.systemPrompt());
        }).messages().size();
    }

    @Override
    public void announceOpened(String id) {
        // one instance: ChatSessions hands the session over itself
    }

    @Override
    public void onOpenedElsewhere(Consumer<String> sessionIds) {
        // there is no elsewhere
    }

    @Override
    public String check() {
        return "memory";
    }
}
