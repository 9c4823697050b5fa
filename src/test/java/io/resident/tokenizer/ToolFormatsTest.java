package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.resident.tools.Pieces;
import io.resident.tools.ToolCall;
import io.resident.tools.ToolCallParser;
import io.resident.tools.ToolCallParser.Call;
import io.resident.tools.ToolCallParser.Content;
import io.resident.tools.ToolCallParser.Piece;
import io.resident.tools.ToolFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every family's tool format: conversations with tools and tool results rendered as transformers renders them, and
 * the calls in each rendered assistant turn read back, streamed token by token through the real tokenizer, into
 * the calls they were made from, with no markup in the content.
 */
class ToolFormatsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode refs;

    @TempDir
    static Path dirs;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = ToolFormatsTest.class.getResourceAsStream("hf-references.json")) {
            refs = JSON.readTree(in);
        }
    }

    @Test
    void qwenCallsAreReadBackFromItsRenderedTurns() {
        try (HfTokenizer qwen = (HfTokenizer) Tokenizers.load(TestFiles.npmModels("qwen3"))) {
            for (JsonNode chat : refs.get("qwen3").get("tool_chats")) {
                List<String> contents = readBack(qwen, ToolFormat.TAGGED_JSON, chat.get("messages"),
                        turns(chat.get("prompt").asText(), "<|im_start|>assistant\n", "<|im_end|>"));
                assertEquals(texts(chat.get("messages")), contents);
            }
        }
    }

    /** Llama 3.1's and Mistral's formats, written for the tests as their templates write them, on Llama 3.1's tokenizer. */
    @ParameterizedTest
    @CsvSource({"llama31_tools_style, BARE_JSON, '<|start_header_id|>assistant<|end_header_id|>\n\n', <|eot_id|>",
                "mistral_tools_style, MISTRAL, '[/INST]', <|eot_id|>"})
    void templatesWithToolsRenderAndTheirCallsReadBack(String name, ToolFormat format, String open, String close) throws IOException {
        JsonNode template = null;
        for (JsonNode t : refs.get("extra_templates").get("templates")) {
            template = t.get("name").asText().equals(name) ? t : template;
        }
        try (HfTokenizer tokenizer = withTemplate(template.get("template").asText())) {
            assertEquals(Optional.of(format), tokenizer.toolFormat());
            for (JsonNode c : template.get("cases")) {
                List<Message> messages = ToolChats.messages(c.get("messages"));
                String prompt = tokenizer.renderChat(messages, ToolChats.tools(c.get("tools")));
                assertEquals(c.get("prompt").asText(), prompt);
                // these formats drop a calling turn's text, and the turns read here are those after a user's
                assertTrue(texts(c.get("messages")).containsAll(readBack(tokenizer, format, c.get("messages"), turns(prompt, open, close))));
            }
        }
    }

    private static List<String> texts(JsonNode messages) {
        List<String> texts = new ArrayList<>();
        for (JsonNode m : messages) {
            if (m.get("role").asText().equals("assistant") && !m.get("content").asText().isEmpty()) {
                texts.add(m.get("content").asText());
            }
        }
        return texts;
    }

    /**
     * Streams each assistant turn's tokens through the parser; the calls must be the conversation's, in order, and
     * no content may hold markup. Returns the content of each turn that had any.
     */
    private static List<String> readBack(Tokenizer tokenizer, ToolFormat format, JsonNode messages, List<String> turns) {
        List<ToolCall> expected = new ArrayList<>();
        for (JsonNode m : messages) {
            m.path("tool_calls").forEach(c -> expected.add(ToolChats.call(c)));
        }
        List<Call> calls = new ArrayList<>();
        List<String> contents = new ArrayList<>();
        for (String turn : turns) {
            ToolCallParser parser = ToolCallParser.of(format, Set.of("get_weather", "local_time"));
            StreamDecoder decoder = tokenizer.streamDecoder();
            List<Piece> pieces = new ArrayList<>();
            for (int id : tokenizer.encode(turn)) {
                pieces.addAll(parser.push(decoder.push(id)));
            }
            pieces.addAll(parser.push(decoder.flush()));
            pieces.addAll(parser.finish());
            StringBuilder content = new StringBuilder();
            for (Piece p : Pieces.joined(pieces)) {
                switch (p) {
                    case Call call -> calls.add(call);
                    case Content text -> content.append(text.text());
                    default -> throw new AssertionError("joined pieces are calls and content: " + p);
                }
            }
            if (!content.isEmpty()) {
                contents.add(content.toString());
            }
        }
        assertEquals(expected.size(), calls.size(), turns.toString());
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(expected.get(i).name(), calls.get(i).name());
            assertEquals(tree(expected.get(i).arguments()), tree(calls.get(i).arguments()));
        }
        contents.forEach(c -> assertFalse(c.contains("tool_call") || c.contains("TOOL_CALLS") || c.contains("\"name\""), c));
        return contents;
    }

    /** The assistant turns of a rendered prompt: the text between each opening and the next closing. */
    private static List<String> turns(String prompt, String open, String close) {
        List<String> turns = new ArrayList<>();
        for (int at = prompt.indexOf(open); at >= 0; at = prompt.indexOf(open, at + 1)) {
            int end = prompt.indexOf(close, at + open.length());
            if (end >= 0) {
                turns.add(prompt.substring(at + open.length(), end));
            }
        }
        return turns;
    }

    private static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }

    /** Llama 3.1's tokenizer files with another chat template. */
    private static HfTokenizer withTemplate(String template) throws IOException {
        Path source = TestFiles.npmModels("llama3_1");
        Path dir = Files.createTempDirectory(dirs, "template");
        Files.copy(source.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("tokenizer_config.json").toFile());
        config.put("chat_template", template);
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        return (HfTokenizer) Tokenizers.load(dir);
    }
}
