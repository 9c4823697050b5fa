package io.resident.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The raw bytes of each token of a tokenizer.json vocabulary: byte-level pieces (GPT-2's printable stand-ins for
 * bytes, as Qwen and Llama 3 have them) mapped back to their bytes, SentencePiece-style pieces with "▁" as a space
 * and &lt;0xXX&gt; as one byte.
 */
final class TokenBytes {

    private static final char SPACE = '\u2581';
    /** GPT-2's bytes_to_unicode inverted: the byte each stand-in character is for. */
    private static final int[] BYTE_OF_CHAR = byteOfChar();

    private final Map<Integer, byte[]> bytes;

    TokenBytes(Map<Integer, byte[]> bytes) {
        this.bytes = bytes;
    }

    byte[] of(int id) {
        return bytes.getOrDefault(id, new byte[0]).clone();
    }

    static byte[] ofPiece(String piece, boolean byteLevel) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        }
        if (!byteLevel) {
            return piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
        }
        byte[] out = new byte[piece.length()];
        for (int i = 0; i < out.length; i++) {
            char c = piece.charAt(i);
            if (c >= BYTE_OF_CHAR.length || BYTE_OF_CHAR[c] < 0) {
                return piece.getBytes(StandardCharsets.UTF_8); // not a byte-level piece after all
            }
            out[i] = (byte) BYTE_OF_CHAR[c];
        }
        return out;
    }

    /** Printable bytes stand for themselves; the others, in order, for the characters from U+0100 on. */
    private static int[] byteOfChar() {
        int[] byteOf = new int[512];
        Arrays.fill(byteOf, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOf[printable ? b : next++] = b;
        }
        return byteOf;
    }
}
