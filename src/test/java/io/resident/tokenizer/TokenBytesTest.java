package io.resident.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A token's raw bytes: joined over a text's tokens they are its UTF-8, though some tokens hold part of a character. */
class TokenBytesTest {

    private static final String TEXT = "emoji 👋🙂 and 中文混合 text, Ünïcödé ß";

    static Stream<Path> tokenizers() {
        return Stream.of(TestFiles.npmModels("qwen3"), TestFiles.npmModels("llama3_1"), Fixtures.own("chatglm3-6b-tiny"));
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void joinedTheyAreTheTextsUtf8(Path dir) {
        try (Tokenizer tokenizer = Tokenizers.load(dir)) {
            int[] ids = tokenizer.encode(TEXT);
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            Arrays.stream(ids).forEach(id -> joined.writeBytes(Objects.requireNonNullElse(tokenizer.tokenBytes(id), new byte[0])));
            // ChatGLM3's SentencePiece adds its dummy prefix, a space, as the reference's sp.encode does
            String expected = tokenizer instanceof ChatGlm3Tokenizer ? " " + TEXT : TEXT;
            assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), joined.toByteArray());
            assertTrue(Arrays.stream(ids).anyMatch(id -> tokenizer.tokenText(id).contains("\uFFFD")),
                    "some token holds part of a character, so its text alone cannot give its bytes");
        }
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void specialTokensHaveNone(Path dir) {
        try (Tokenizer tokenizer = Tokenizers.load(dir)) {
            for (int stop : tokenizer.stopIds()) {
                assertNull(tokenizer.tokenBytes(stop), "stop id " + stop);
            }
        }
    }
}
