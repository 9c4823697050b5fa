package io.resident.grammar;

import java.nio.charset.StandardCharsets;

/** Literal bytes of a grammar, compared by identity (made once per grammar). */
final class Text {

    final byte[] bytes;

    Text(String text) {
        this.bytes = text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
