package io.resident.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.chat.ChatSession.Conversation;
import io.resident.model.Fixtures;
import io.resident.tokenizer.Message;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A turn's prompt within the context budget, with real tokenizers: Qwen3's (HF chat template) and ChatGLM3's. */
class PromptBuilderTest {

    private static Tokenizer qwen3;
    private static Tokenizer chatglm3;

    @BeforeAll
    static void load() {
        qwen3 = Tokenizers.load(Path.of("target/npm/qwen3/package/models"));
        chatglm3 = Tokenizers.load(Fixtures.own("chatglm3-6b-tiny"));
    }

    @AfterAll
    static void close() {
        qwen3.close();
        chatglm3.close();
    }

    private static Tokenizer tokenizer(String name) {
        return name.equals("qwen3") ? qwen3 : chatglm3;
    }

    private static final String SYSTEM = "You are a concise assistant. 请用中文回答。";

    /** Ten turns of growing, mixed-script messages. */
    private static List<Message> history() {
        List<Message> messages = new ArrayList<>();
        for (int turn = 1; turn <= 10; turn++) {
            messages.add(new Message("user", "Question " + turn + ": 第" + turn + "个问题是什么？ " + "why ".repeat(turn * 3)));
            messages.add(new Message("assistant", "Answer " + turn + "，这是回答。" + "because ".repeat(turn * 2)));
        }
        return messages;
    }

    private static int[] prompt(Tokenizer tokenizer, String system, List<Message> history, String message) {
        List<Message> all = new ArrayList<>();
        if (system != null) {
            all.add(new Message("system", system));
        }
        all.addAll(history);
        all.add(new Message("user", message));
        return tokenizer.chatPrompt(all);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "chatglm3"})
    void everythingGoesInWhenItFits(String name) {
        Tokenizer tokenizer = tokenizer(name);
        List<Message> history = history();
        int[] full = prompt(tokenizer, SYSTEM, history, "And now?");
        PromptBuilder.Prompt built = new PromptBuilder(tokenizer, full.length + 100)
                .build(new Conversation(SYSTEM, history), "And now?", 100);
        assertArrayEquals(full, built.ids());
        assertEquals(20, built.messagesKept());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "chatglm3"})
    void theOldestTurnsGoFirstAndTheSystemPromptStays(String name) {
        Tokenizer tokenizer = tokenizer(name);
        List<Message> history = history();
        int[] full = prompt(tokenizer, SYSTEM, history, "And now?");
        int budget = 64;
        int context = full.length + budget - 40; // a little too small for everything
        PromptBuilder.Prompt built = new PromptBuilder(tokenizer, context).build(new Conversation(SYSTEM, history), "And now?", budget);

        // the newest suffix that opens with a user message and fits, found by trying every one
        int expectedStart = -1;
        for (int start = 0; start <= history.size(); start += 2) {
            if (prompt(tokenizer, SYSTEM, history.subList(start, history.size()), "And now?").length + budget <= context) {
                expectedStart = start;
                break;
            }
        }
        assertTrue(expectedStart > 0, "the setup must force trimming");
        assertEquals(history.size() - expectedStart, built.messagesKept());
        assertArrayEquals(prompt(tokenizer, SYSTEM, history.subList(expectedStart, history.size()), "And now?"), built.ids());
        assertTrue(built.ids().length + budget <= context);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "chatglm3"})
    void onlyTheNewMessageWhenNoTurnFits(String name) {
        Tokenizer tokenizer = tokenizer(name);
        List<Message> history = history();
        int[] alone = prompt(tokenizer, null, List.of(), "Short.");
        PromptBuilder.Prompt built = new PromptBuilder(tokenizer, alone.length + 10)
                .build(new Conversation(null, history), "Short.", 10);
        assertArrayEquals(alone, built.ids());
        assertEquals(0, built.messagesKept());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "chatglm3"})
    void aPromptNeverOpensWithAnAssistantMessage(String name) {
        Tokenizer tokenizer = tokenizer(name);
        // an odd window can evict a user message and leave its answer first
        List<Message> history = history().subList(1, 5);
        int[] expected = prompt(tokenizer, SYSTEM, history.subList(1, 4), "Next");
        PromptBuilder.Prompt built = new PromptBuilder(tokenizer, 100_000).build(new Conversation(SYSTEM, history), "Next", 10);
        assertArrayEquals(expected, built.ids());
        assertEquals(3, built.messagesKept());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "chatglm3"})
    void aMessageTooLongOnItsOwnOverflows(String name) {
        Tokenizer tokenizer = tokenizer(name);
        String longMessage = "长".repeat(300) + " word".repeat(300);
        int alone = prompt(tokenizer, SYSTEM, List.of(), longMessage).length;
        PromptBuilder builder = new PromptBuilder(tokenizer, alone + 50);
        ContextOverflowException overflow = assertThrows(ContextOverflowException.class,
                () -> builder.build(new Conversation(SYSTEM, history()), longMessage, 51));
        assertEquals("the message needs " + alone + " prompt tokens with the system prompt and the reply up to 51,"
                + " but the model's context holds " + (alone + 50) + " tokens", overflow.getMessage());
        // exactly at the limit it fits, with no history
        assertEquals(0, builder.build(new Conversation(SYSTEM, history()), longMessage, 50).messagesKept());
    }
}
