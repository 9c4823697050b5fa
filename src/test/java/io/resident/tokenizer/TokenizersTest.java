package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The factory picks the format from the files, and missing or broken files give one clear line. */
class TokenizersTest {

    @TempDir
    Path dir;

    @Test
    void chatglmConfigWithTokenizerModelGetsTheSentencePieceTokenizer() {
        try (Tokenizer t = Tokenizers.load(Fixtures.own("chatglm3-6b-tiny"))) {
            assertInstanceOf(ChatGlm3Tokenizer.class, t);
        }
    }

    @Test
    void otherModelsGetTheirTokenizerJson() {
        try (Tokenizer t = Tokenizers.load(TestFiles.npmModels("qwen3"))) {
            assertInstanceOf(HfTokenizer.class, t);
        }
    }

    @Test
    void eosIdsOfConfigAndGenerationConfigStopAReply() throws IOException {
        Files.copy(TestFiles.npmModels("qwen3").resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(TestFiles.npmModels("qwen3").resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen2\", \"eos_token_id\": 151643}");
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [151645, 151643, 151336]}");
        try (Tokenizer t = Tokenizers.load(dir)) {
            assertEquals(Set.of(151643, 151645, 151336), t.stopIds());
        }
    }

    @Test
    void missingDirectory() {
        assertMessage("model directory " + dir.resolve("nope") + " does not exist", dir.resolve("nope"));
    }

    @Test
    void missingTokenizerJson() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen2\"}");
        assertMessage("missing " + dir.resolve("tokenizer.json"), dir);
    }

    @Test
    void chatglmWithoutTokenizerModel() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"chatglm\"}");
        assertMessage("ChatGLM model " + dir + " has no tokenizer.model", dir);
    }

    @Test
    void brokenTokenizerModel() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"chatglm\"}");
        Files.write(dir.resolve("tokenizer.model"), new byte[] {0x0a, 0x7f, 0x01});
        TokenizerLoadException e = assertThrows(TokenizerLoadException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.model") + " is not a usable SentencePiece model: "), e.getMessage());
    }

    @Test
    void brokenJson() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": ");
        TokenizerLoadException e = assertThrows(TokenizerLoadException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().startsWith("cannot parse " + dir.resolve("config.json")), e.getMessage());
    }

    @Test
    void noChatTemplate() throws IOException {
        Files.copy(TestFiles.npmModels("qwen3").resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
        assertMessage(dir + " has no chat template (chat_template.jinja or tokenizer_config.json chat_template)", dir);
    }

    @Test
    void unparsableChatTemplate() throws IOException {
        Files.copy(TestFiles.npmModels("qwen3").resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}{{ m.content }}");
        assertMessage(dir + ": chat template not usable: template syntax: missing {% else / endfor %} (at offset 38)", dir);
    }

    private static void assertMessage(String expected, Path modelDir) {
        assertEquals(expected, assertThrows(TokenizerLoadException.class, () -> Tokenizers.load(modelDir)).getMessage());
    }
}
