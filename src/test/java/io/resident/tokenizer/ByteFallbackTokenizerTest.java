package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Llama 2's real tokenizer.json, a SentencePiece BPE with byte fallback and a decoder that strips the prepended
 * space: the kind of tokenizer Mistral ships. Its emoji and other characters outside the vocabulary are byte tokens,
 * so streaming must hold them back until a character is whole.
 */
class ByteFallbackTokenizerTest {

    @TempDir
    static Path dir;

    private static Tokenizer tokenizer;
    private static List<String> corpus;

    @BeforeAll
    static void load() throws IOException {
        Path models = TestFiles.npmModels("llama2");
        Files.copy(models.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(models.resolve("tokenizer_config.json").toFile());
        // the base model's tokenizer has no chat template: give it one in Mistral's [INST] format
        config.put("chat_template", "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }}"
                + " [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}");
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"mistral\", \"eos_token_id\": 2}");
        tokenizer = Tokenizers.load(dir);
        corpus = new ArrayList<>();
        try (InputStream in = ByteFallbackTokenizerTest.class.getResourceAsStream("hf-references.json")) {
            json.readTree(in).get("qwen3").get("corpus").forEach(c -> corpus.add(c.get("text").asText()));
        }
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void tokenBytesJoinToTheTextWithByteFallbackPieces() {
        for (String text : corpus.stream().filter(t -> !t.isEmpty()).toList()) {
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (int id : tokenizer.encode(text)) {
                joined.writeBytes(tokenizer.tokenBytes(id));
            }
            // the normalizer's space before the first piece, which the decoder drops
            assertEquals(" " + text, joined.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyCorpusTextComesBackUnchanged() {
        for (String text : corpus) {
            assertEquals(text, tokenizer.decode(tokenizer.encode(text)), text);
        }
    }

    @Test
    void streamedPiecesJoinToTheDecodedTextAndNeverSplitACharacter() {
        for (String text : corpus) {
            int[] ids = tokenizer.encode(text);
            StreamDecoder stream = tokenizer.streamDecoder();
            List<String> pieces = new ArrayList<>();
            for (int id : ids) {
                pieces.add(stream.push(id));
            }
            pieces.add(stream.flush());
            assertEquals(text, String.join("", pieces), text);
            assertTrue(pieces.stream().noneMatch(p -> p.indexOf('\uFFFD') >= 0), "a broken character in " + pieces);
        }
    }

    @Test
    void anEmojiOfFourByteTokensArrivesWholeWithItsLastByte() {
        int[] ids = tokenizer.encode("hi 👋");
        // <0xF0> <0x9F> <0x91> <0x8B>: byte tokens are ids 3 + byte
        assertArrayEquals(new int[] {3 + 0xF0, 3 + 0x9F, 3 + 0x91, 3 + 0x8B}, Arrays.copyOfRange(ids, ids.length - 4, ids.length));
        StreamDecoder stream = tokenizer.streamDecoder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(stream.push(id));
        }
        assertEquals(List.of("", "", "", "👋"), pieces.subList(pieces.size() - 4, pieces.size()));
        assertEquals("hi ", String.join("", pieces.subList(0, pieces.size() - 4)));
    }

    @Test
    void theChatPromptOpensWithTheBosTokenAndStopsOnEos() {
        int[] ids = tokenizer.chatPrompt(List.of(new Message("user", "Hello!")));
        assertEquals(1, ids[0], "<s> is recognized in the rendered template");
        assertEquals("[INST] Hello! [/INST]", tokenizer.decode(ids));
        assertEquals(Set.of(2), tokenizer.stopIds());
    }

    @Test
    void specialTokenTextTypedByAUserStaysPlainInEncode() {
        int[] ids = tokenizer.encode("</s>");
        assertTrue(ids.length > 1 && Arrays.stream(ids).noneMatch(id -> id == 2), Arrays.toString(ids));
        assertEquals("</s>", tokenizer.decode(ids));
    }
}
