package io.resident.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Each token's bytes in decoded text, read from tokenizer.json's model.vocab and added_tokens as its decoder turns
 * them into text: byte-level pieces (GPT-2's byte-to-character map) or SentencePiece-style pieces ("▁" a space,
 * "&lt;0xNN&gt;" one byte). Special added tokens have none.
 */
final class HfVocabulary {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char SPACE_MARK = '\u2581';

    private HfVocabulary() {}

    static byte[][] read(Path file) {
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode added = JSON.createArrayNode();
        JsonNode decoder = JSON.nullNode();
        try (JsonParser p = JSON.getFactory().createParser(Files.readAllBytes(file))) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("added_tokens")) {
                    added = JSON.readTree(p);
                } else if (field.equals("decoder")) {
                    decoder = JSON.readTree(p);
                } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        boolean isVocab = p.currentName().equals("vocab");
                        if (p.nextToken() == JsonToken.START_OBJECT && isVocab) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String piece = p.currentName();
                                p.nextToken();
                                vocab.put(piece, p.getIntValue());
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        String decoders = decoder.toString();
        boolean byteLevel = decoders.contains("\"ByteLevel\"");
        boolean byteFallback = decoders.contains("\"ByteFallback\"");
        int size = vocab.values().stream().mapToInt(i -> i + 1).max().orElse(0);
        for (JsonNode t : added) {
            size = Math.max(size, t.path("id").asInt() + 1);
        }
        byte[][] bytes = new byte[size][];
        int[] byteOfChar = byteLevel ? byteLevelDecoding() : null;
        vocab.forEach((piece, id) -> bytes[id] = byteLevel ? byteLevel(piece, byteOfChar) : spaceMarked(piece, byteFallback));
        for (JsonNode t : added) {
            String content = t.path("content").asText();
            bytes[t.path("id").asInt()] = t.path("special").asBoolean() ? null : content.getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    private static byte[] byteLevel(String piece, int[] byteOfChar) {
        byte[] out = new byte[piece.length()];
        for (int i = 0; i < out.length; i++) {
            char c = piece.charAt(i);
            if (c >= byteOfChar.length || byteOfChar[c] < 0) {
                return piece.getBytes(StandardCharsets.UTF_8); // not a byte-level piece
            }
            out[i] = (byte) byteOfChar[c];
        }
        return out;
    }

    private static byte[] spaceMarked(String piece, boolean byteFallback) {
        if (byteFallback && piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        }
        return piece.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** GPT-2's bytes_to_unicode, inverted: printable bytes map to themselves, the others to 256 and up. */
    private static int[] byteLevelDecoding() {
        int[] byteOfChar = new int[512];
        Arrays.fill(byteOfChar, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOfChar[printable ? b : next++] = b;
        }
        return byteOfChar;
    }
}
