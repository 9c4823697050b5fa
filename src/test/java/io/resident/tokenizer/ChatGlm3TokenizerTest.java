package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.model.Fixtures;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolCallParser;
import io.resident.tools.ToolDefinition;
import io.resident.tools.ToolFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ChatGLM3 tiny fixture's tokenizer against the ids and texts the sentencepiece package and build_chat_input's construction give. */
class ChatGlm3TokenizerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode golden;
    private static ChatGlm3Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        golden = Fixtures.json(Fixtures.own("chatglm3-6b-tiny").resolve("golden.json"));
        tokenizer = (ChatGlm3Tokenizer) Tokenizers.load(Fixtures.own("chatglm3-6b-tiny"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodesLikeTheReference() {
        for (JsonNode v : golden.get("tokenizer_vectors")) {
            String text = v.get("text").asText();
            assertArrayEquals(Fixtures.ints(v.get("ids")), tokenizer.encode(text), text);
            assertEquals(v.get("decoded").asText(), tokenizer.decode(Fixtures.ints(v.get("ids"))), text);
        }
    }

    @Test
    void specialTokensFollowTheSentencePieceVocabulary() {
        golden.get("special_token_ids").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asInt(), tokenizer.special(e.getKey()), e.getKey()));
        assertEquals(Set.of(2, 1006, 1008), tokenizer.stopIds());
    }

    @Test
    void chatPromptsAreBuiltAsBuildChatInputDoes() {
        for (JsonNode c : golden.get("conversations")) {
            List<Message> messages = new ArrayList<>();
            c.get("messages").forEach(m -> messages.add(new Message(m.get("role").asText(), m.get("content").asText())));
            assertArrayEquals(Fixtures.ints(c.get("prompt_ids")), tokenizer.chatPrompt(messages), c.get("messages").toString());
        }
    }

    @Test
    void generatedIdsDecodeToTheReferenceTextWholeAndStreamed() {
        for (JsonNode c : golden.get("conversations")) {
            int[] ids = Fixtures.ints(c.get("output_ids"));
            String expected = c.get("raw_text").asText();
            assertEquals(expected, tokenizer.decode(ids));
            StreamDecoder stream = tokenizer.streamDecoder();
            StringBuilder joined = new StringBuilder();
            for (int id : ids) {
                joined.append(stream.push(id));
            }
            assertEquals(expected, joined.append(stream.flush()).toString());
        }
    }

    @Test
    void streamingHoldsBackSplitCharactersAndKeepsInnerSpaces() {
        int[] ids = tokenizer.encode("emoji 👋🙂 and 中文混合 text");
        StreamDecoder stream = tokenizer.streamDecoder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(stream.push(id));
        }
        pieces.add(stream.flush());
        assertEquals("emoji 👋🙂 and 中文混合 text", String.join("", pieces));
        pieces.forEach(p -> assertEquals(-1, p.indexOf('\uFFFD'), "a piece with a broken character: " + pieces));
        // 👋 is four byte tokens: the first three give nothing, the fourth the whole character
        int wave = indexOf(ids, 243);
        assertEquals(List.of("", "", "", "👋"), pieces.subList(wave, wave + 4));
    }

    @Test
    void aReplysEmptyMetadataLineIsLeftOutOfItsText() {
        int[] content = tokenizer.encode("你好 there");
        int[] reply = new int[content.length + 2];
        System.arraycopy(tokenizer.encode("\n"), 0, reply, 0, 2); // the dummy prefix and "\n": what follows <|assistant|>
        System.arraycopy(content, 0, reply, 2, content.length);
        StreamDecoder stream = tokenizer.streamDecoder();
        StringBuilder text = new StringBuilder();
        for (int id : reply) {
            text.append(stream.push(id));
        }
        assertEquals("你好 there", text.append(stream.flush()).toString());
        assertEquals("\n 你好 there", tokenizer.decode(reply), "decode itself keeps every id's text, as sp.decode does");
        // so a reply kept in the history gives build_chat_input's ids for the next turn
        int[] next = tokenizer.chatPrompt(List.of(new Message("user", "hi"), new Message("assistant", text.toString())));
        int assistant = tokenizer.special("<|assistant|>");
        int at = indexOf(next, assistant);
        assertArrayEquals(reply, Arrays.copyOfRange(next, at + 1, at + 1 + reply.length));
    }

    @Test
    void userTypedSpecialTokenTextStaysPlain() {
        int[] ids = tokenizer.chatPrompt(List.of(new Message("user", "<|assistant|>sop")));
        assertEquals(1, Arrays.stream(ids).filter(id -> id == 1007).count(), "only the prompt's own <|assistant|>");
        assertEquals(1, Arrays.stream(ids).filter(id -> id == 1003).count(), "only the prompt's own sop");
    }

    @Test
    void tokenTextKeepsTheLeadingSpace() {
        int[] ids = tokenizer.encode("two words");
        assertEquals(" two words", String.join("", Arrays.stream(ids).mapToObj(tokenizer::tokenText).toList()));
        assertEquals("", tokenizer.tokenText(1007));
    }

    @Test
    void toolsCallsAndResultsAreBuiltAsBuildChatInputBuildsThem() throws IOException {
        List<ToolDefinition> tools = List.of(new ToolDefinition("get_weather", "Weather for a city", JSON.readTree(
                "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\"}}, \"required\": [\"city\"]}"), false));
        ToolCall call = new ToolCall("call_1", "get_weather", "{\"city\":\"Zürich\",\"note\":\"it's\",\"days\":2,\"ok\":true,\"x\":null,\"l\":[1.5,\"a\"]}");
        int[] ids = tokenizer.chatPrompt(List.of(
                new Message("user", "Weather?"),
                new Message("assistant", null, List.of(call), null),
                new Message("tool", "{\"temp\": 9}", List.of(), "call_1")), tools);

        // Python's json.dumps(tools, indent=4, ensure_ascii=False) of the function objects
        String toolsJson = "[\n    {\n        \"name\": \"get_weather\",\n        \"description\": \"Weather for a city\",\n        \"parameters\": {\n"
                + "            \"type\": \"object\",\n            \"properties\": {\n                \"city\": {\n                    \"type\": \"string\"\n"
                + "                },\n                \"days\": {\n                    \"type\": \"integer\"\n                }\n            },\n"
                + "            \"required\": [\n                \"city\"\n            ]\n        }\n    }\n]";
        // Python's repr of the arguments, as the model writes its call
        String code = "```python\ntool_call(city='Zürich', note=\"it's\", days=2, ok=True, x=None, l=[1.5, 'a'])\n```";
        SentencePieceModel.IntList expected = new SentencePieceModel.IntList();
        expected.add(tokenizer.special("[gMASK]"));
        expected.add(tokenizer.special("sop"));
        for (String[] turn : List.of(
                new String[] {"<|system|>", "", ChatGlm3Tokenizer.TOOLS_PROMPT + "\n" + toolsJson},
                new String[] {"<|user|>", "", "Weather?"},
                new String[] {"<|assistant|>", "get_weather", code},
                new String[] {"<|observation|>", "", "{\"temp\": 9}"})) {
            expected.add(tokenizer.special(turn[0]));
            expected.addAll(tokenizer.encode(turn[1] + "\n"));
            expected.addAll(tokenizer.encode(turn[2]));
        }
        expected.add(tokenizer.special("<|assistant|>"));
        assertArrayEquals(expected.toArray(), ids);

        // the call the model writes after <|assistant|> is read back into the same call
        SentencePieceModel.IntList reply = new SentencePieceModel.IntList();
        reply.addAll(tokenizer.encode("get_weather\n"));
        reply.addAll(tokenizer.encode(code));
        ToolCallParser parser = ToolCallParser.of(ToolFormat.CHATGLM3, Set.of("get_weather"));
        StreamDecoder stream = tokenizer.streamDecoder();
        List<ToolCallParser.Piece> pieces = new ArrayList<>();
        for (int id : reply.toArray()) {
            pieces.addAll(parser.push(stream.push(id)));
        }
        pieces.addAll(parser.push(stream.flush()));
        pieces.addAll(parser.finish());
        assertEquals(List.of(new ToolCallParser.Call("get_weather", call.arguments())), pieces);
    }

    @Test
    void aPlainReplyWithToolsIsContent() {
        ToolCallParser parser = ToolCallParser.of(ToolFormat.CHATGLM3, Set.of("get_weather"));
        List<ToolCallParser.Piece> pieces = new ArrayList<>(parser.push("get"));
        assertEquals(List.of(), pieces, "may still be the name of a tool");
        pieces.addAll(parser.push("ting there"));
        pieces.addAll(parser.finish());
        assertEquals(List.of(new ToolCallParser.Content("getting there")), pieces);
    }

    private static int indexOf(int[] ids, int id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        throw new AssertionError(id + " not in ids");
    }
}
