package io.resident.tokenizer;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Streams text by decoding a short window of recent ids twice, with and without the unread ones, and emitting the
 * difference once it does not end in U+FFFD (a character still missing bytes). The window starts at ids already
 * emitted, so decoders that treat the first id specially (a leading space dropped) give the same text as one
 * decode of all ids.
 */
final class WindowStreamDecoder implements StreamDecoder {

    private final Function<int[], String> decode;
    private int[] ids = new int[64];
    private int size;
    private int prefix; // the window's first id: already emitted, kept as context
    private int read;   // ids before this one have been emitted

    WindowStreamDecoder(Function<int[], String> decode) {
        this.decode = decode;
    }

    @Override
    public String push(int id) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
        String before = decode.apply(Arrays.copyOfRange(ids, prefix, read));
        String now = decode.apply(Arrays.copyOfRange(ids, prefix, size));
        if (now.length() <= before.length() || !now.startsWith(before) || now.endsWith("\uFFFD")) {
            return "";
        }
        prefix = read;
        read = size;
        return now.substring(before.length());
    }

    @Override
    public String flush() {
        String before = decode.apply(Arrays.copyOfRange(ids, prefix, read));
        String now = decode.apply(Arrays.copyOfRange(ids, prefix, size));
        prefix = read = size;
        return now.startsWith(before) ? now.substring(before.length()) : "";
    }
}
