package io.resident.chat;

import io.resident.chat.ChatSession.Conversation;
import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a turn's prompt ids with the model's chat format ({@link Tokenizer#chatPrompt}): system prompt, the
 * remembered messages, the new user message. The prompt plus the reply's token budget must fit in the context;
 * when they do not, the oldest messages are left out of the prompt (not out of memory), whole user turns at a time
 * so that the prompt still opens with a user message. The system prompt always stays.
 */
public final class PromptBuilder {

    /**
     * @param ids          the prompt's token ids, ending with the assistant's turn opened
     * @param messagesKept how many of the remembered messages the prompt holds (the newest ones)
     */
    public record Prompt(int[] ids, int messagesKept) {}

    private final Tokenizer tokenizer;
    private final int maxContext;

    public PromptBuilder(Tokenizer tokenizer, int maxContext) {
        this.tokenizer = tokenizer;
        this.maxContext = maxContext;
    }

    /**
     * @param replyBudget the tokens the reply may take (its max_tokens), at least 1
     * @throws ContextOverflowException the system prompt, the new message and the reply budget alone exceed the context
     */
    public Prompt build(Conversation conversation, String message, int replyBudget) {
        List<Message> history = conversation.messages();
        // candidate first messages: every user message, oldest first, then none (history.size())
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            if (history.get(i).role().equals("user")) {
                starts.add(i);
            }
        }
        starts.add(history.size());

        int[] alone = ids(conversation.systemPrompt(), List.of(), message);
        if ((long) alone.length + replyBudget > maxContext) {
            throw new ContextOverflowException("the message needs " + alone.length + " prompt tokens"
                    + (conversation.systemPrompt() == null ? "" : " with the system prompt") + " and the reply up to "
                    + replyBudget + ", but the model's context holds " + maxContext + " tokens");
        }
        // the prompt grows with every message kept: find the oldest start that still fits
        int low = 0;
        int high = starts.size() - 1;
        int[] best = alone;
        while (low < high) {
            int mid = (low + high) / 2;
            int[] ids = ids(conversation.systemPrompt(), history.subList(starts.get(mid), history.size()), message);
            if (ids.length + replyBudget <= maxContext) {
                best = ids;
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return new Prompt(best, history.size() - starts.get(low));
    }

    private int[] ids(String systemPrompt, List<Message> history, String message) {
        List<Message> messages = new ArrayList<>(history.size() + 2);
        if (systemPrompt != null) {
            messages.add(new Message("system", systemPrompt));
        }
        messages.addAll(history);
        messages.add(new Message("user", message));
        return tokenizer.chatPrompt(messages);
    }
}
