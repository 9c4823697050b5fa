package io.resident.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A SentencePiece BPE model read from its tokenizer.model (a protobuf ModelProto), encoding and decoding as the
 * sentencepiece library does: identity normalizer, dummy prefix, highest-score-first merges, byte fallback.
 */
final class SentencePieceModel {

    static final char SPACE = '\u2581';
    private static final String UNKNOWN_SURFACE = " \u2047 ";

    // SentencePiece.Type values of the proto.
    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    private static final int MODEL_TYPE_BPE = 2;

    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final List<String> userDefined = new ArrayList<>();
    private final int unkId;
    private final boolean byteFallback;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;

    private SentencePieceModel(Proto proto) {
        int n = proto.pieces.size();
        pieces = new String[n];
        scores = new float[n];
        types = new int[n];
        Arrays.fill(byteIds, -1);
        int unk = -1;
        for (int i = 0; i < n; i++) {
            Proto.Piece p = proto.pieces.get(i);
            pieces[i] = p.piece;
            scores[i] = p.score;
            types[i] = p.type;
            switch (p.type) {
                case NORMAL, UNUSED -> ids.put(p.piece, i);
                case USER_DEFINED -> {
                    ids.put(p.piece, i);
                    userDefined.add(p.piece);
                }
                case UNKNOWN -> unk = i;
                case BYTE -> byteIds[byteOf(p.piece)] = i;
                default -> { }
            }
        }
        if (unk < 0) {
            throw new IllegalArgumentException("no <unk> piece");
        }
        unkId = unk;
        userDefined.sort(Comparator.comparingInt(String::length).reversed());
        byteFallback = proto.byteFallback;
        if (byteFallback && Arrays.stream(byteIds).anyMatch(id -> id < 0)) {
            throw new IllegalArgumentException("byte_fallback is on but not all 256 <0xXX> pieces exist");
        }
        addDummyPrefix = proto.addDummyPrefix;
        removeExtraWhitespaces = proto.removeExtraWhitespaces;
        escapeWhitespaces = proto.escapeWhitespaces;
    }

    /** Reads a tokenizer.model file; only BPE models with the identity normalizer are accepted. */
    static SentencePieceModel read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            Proto proto = Proto.parse(data);
            if (proto.modelType != MODEL_TYPE_BPE) {
                throw new IllegalArgumentException("model_type " + proto.modelType + " is not BPE (2)");
            }
            if (proto.precompiledCharsmap) {
                throw new IllegalArgumentException("normalizer '" + proto.normalizerName + "' has a character map; only identity is supported");
            }
            return new SentencePieceModel(proto);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new TokenizerLoadException(file + " is not a usable SentencePiece model: " + e.getMessage(), e);
        }
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    boolean isByte(int id) {
        return types[id] == BYTE;
    }

    /** Text to ids as SentencePieceProcessor.encode does; "" gives no ids (no dummy prefix alone). */
    int[] encode(String text) {
        String normalized = normalize(text);
        if (normalized.isEmpty()) {
            return new int[0];
        }
        // Symbols are [start, end) ranges of the normalized text, linked as a list; a merged-away symbol has start == end.
        int count = 0;
        int[] start = new int[normalized.length()];
        int[] end = new int[normalized.length()];
        boolean[] frozen = new boolean[normalized.length()];
        for (int pos = 0; pos < normalized.length(); count++) {
            String user = userDefinedAt(normalized, pos);
            int len = user != null ? user.length() : Character.charCount(normalized.codePointAt(pos));
            start[count] = pos;
            end[count] = pos + len;
            frozen[count] = user != null;
            pos += len;
        }
        int[] prev = new int[count];
        int[] next = new int[count];
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }
        // Highest score first; among equal scores the leftmost pair (sentencepiece's agenda order).
        PriorityQueue<int[]> agenda = new PriorityQueue<>((a, b) -> {
            int c = Float.compare(scores[b[2]], scores[a[2]]);
            return c != 0 ? c : Integer.compare(a[0], b[0]);
        });
        Map<String, String[]> reverseMerges = new HashMap<>();
        for (int i = 0; i + 1 < count; i++) {
            addPair(normalized, i, i + 1, start, end, frozen, agenda, reverseMerges);
        }
        while (!agenda.isEmpty()) {
            int[] top = agenda.poll();
            int left = top[0], right = top[1];
            if (start[left] == end[left] || start[right] == end[right] || end[right] - start[left] != top[3]
                    || next[left] != right) {
                continue; // a stale pair: one side was merged since it was queued
            }
            end[left] = end[right];
            start[right] = end[right];
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                addPair(normalized, prev[left], left, start, end, frozen, agenda, reverseMerges);
            }
            if (next[left] >= 0) {
                addPair(normalized, left, next[left], start, end, frozen, agenda, reverseMerges);
            }
        }
        IntList out = new IntList();
        for (int i = 0; i >= 0; i = next[i]) {
            emit(normalized.substring(start[i], end[i]), reverseMerges, out);
        }
        return out.toArray();
    }

    private void addPair(String text, int left, int right, int[] start, int[] end, boolean[] frozen,
                         PriorityQueue<int[]> agenda, Map<String, String[]> reverseMerges) {
        if (frozen[left] || frozen[right]) {
            return;
        }
        String merged = text.substring(start[left], end[right]);
        Integer id = ids.get(merged);
        if (id == null) {
            return;
        }
        agenda.add(new int[] {left, right, id, merged.length()});
        if (types[id] == UNUSED) {
            reverseMerges.put(merged, new String[] {text.substring(start[left], end[left]), text.substring(start[right], end[right])});
        }
    }

    // An unused piece is split back into the pieces it was merged from; an unknown one falls back to its UTF-8 bytes.
    private void emit(String piece, Map<String, String[]> reverseMerges, IntList out) {
        Integer id = ids.get(piece);
        if (id != null && types[id] == UNUSED && reverseMerges.containsKey(piece)) {
            String[] parts = reverseMerges.get(piece);
            emit(parts[0], reverseMerges, out);
            emit(parts[1], reverseMerges, out);
        } else if (id != null) {
            out.add(id);
        } else if (byteFallback) {
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                out.add(byteIds[b & 0xff]);
            }
        } else {
            out.add(unkId);
        }
    }

    private String userDefinedAt(String text, int pos) {
        for (String symbol : userDefined) {
            if (text.startsWith(symbol, pos)) {
                return symbol;
            }
        }
        return null;
    }

    private String normalize(String text) {
        char space = escapeWhitespaces ? SPACE : ' ';
        int from = 0;
        if (removeExtraWhitespaces) {
            while (from < text.length() && text.charAt(from) == ' ') {
                from++;
            }
        }
        if (from == text.length()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(text.length() + 1);
        if (addDummyPrefix) {
            sb.append(space);
        }
        boolean prevSpace = addDummyPrefix;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean isSpace = c == ' ';
            if (!(isSpace && prevSpace && removeExtraWhitespaces)) {
                sb.append(isSpace ? space : c);
            }
            prevSpace = isSpace;
        }
        if (removeExtraWhitespaces) {
            while (sb.length() > 0 && sb.charAt(sb.length() - 1) == space) {
                sb.setLength(sb.length() - 1);
            }
        }
        return sb.toString();
    }

    /** A fresh incremental decoder; decoding all ids through one gives SentencePieceProcessor.decode's text. */
    Decoder decoder() {
        return new Decoder();
    }

    /**
     * sentencepiece's decode, fed one id at a time: byte pieces are held until they form a character (an invalid byte
     * becomes one U+FFFD), and the dummy-prefix space of the first piece is dropped.
     */
    final class Decoder {
        private final byte[] pending = new byte[4];
        private int pendingCount;
        private boolean expectBosSpace = true;
        private boolean bosSpaceSeen;
        private boolean anyText;

        /** Adds one sp id (0 <= id < size()); returns the text that became final. */
        String push(int id) {
            StringBuilder out = new StringBuilder();
            if (types[id] == BYTE) {
                pending[pendingCount++] = (byte) byteOf(pieces[id]);
                drainBytes(false, out);
                return done(out);
            }
            drainBytes(true, out);
            anyText |= !out.isEmpty();
            if (bosSpaceSeen || anyText) {
                expectBosSpace = false;
            }
            bosSpaceSeen = false;
            switch (types[id]) {
                case CONTROL -> { }
                case UNKNOWN -> out.append(UNKNOWN_SURFACE);
                default -> {
                    String piece = pieces[id];
                    if (expectBosSpace && (addDummyPrefix || removeExtraWhitespaces) && !piece.isEmpty() && piece.charAt(0) == SPACE) {
                        piece = piece.substring(1);
                        bosSpaceSeen = !removeExtraWhitespaces;
                    }
                    out.append(piece.replace(SPACE, ' '));
                }
            }
            return done(out);
        }

        /** The bytes still held at the end, each invalid one as U+FFFD. */
        String flush() {
            StringBuilder out = new StringBuilder();
            drainBytes(true, out);
            return done(out);
        }

        private String done(StringBuilder out) {
            anyText |= !out.isEmpty();
            return out.toString();
        }

        // Emits every character of the pending bytes that later bytes cannot change; at the end of a run, all of them.
        private void drainBytes(boolean endOfRun, StringBuilder out) {
            int pos = 0;
            while (pos < pendingCount) {
                int lead = pending[pos] & 0xff;
                int need = lead < 0x80 ? 1 : lead >= 0xC0 && lead < 0xE0 ? 2 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xF0 && lead < 0xF8 ? 4 : 0;
                if (need > 1 && pos + need > pendingCount && !endOfRun) {
                    break;
                }
                int cp = need == 0 || pos + need > pendingCount ? -1 : codePoint(pos, need);
                if (cp < 0) {
                    out.append('\uFFFD');
                    pos++;
                } else {
                    out.appendCodePoint(cp);
                    pos += need;
                }
            }
            System.arraycopy(pending, pos, pending, 0, pendingCount - pos);
            pendingCount -= pos;
        }

        private int codePoint(int pos, int need) {
            int cp = need == 1 ? pending[pos] : pending[pos] & (0x7F >> need);
            for (int k = 1; k < need; k++) {
                int b = pending[pos + k] & 0xff;
                if ((b & 0xC0) != 0x80) {
                    return -1;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            int min = need == 1 ? 0 : need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
            boolean valid = cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
            return valid ? cp : -1;
        }
    }

    static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || !piece.endsWith(">")) {
            throw new IllegalArgumentException("byte piece '" + piece + "' is not <0xXX>");
        }
        return Integer.parseInt(piece.substring(3, 5), 16);
    }

    /** The fields of ModelProto this reader needs, parsed from the protobuf wire format. */
    private static final class Proto {
        record Piece(String piece, float score, int type) {}

        final List<Piece> pieces = new ArrayList<>();
        int modelType = 1; // proto default: UNIGRAM
        boolean byteFallback;
        String normalizerName = "";
        boolean precompiledCharsmap;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;

        static Proto parse(byte[] data) {
            Proto proto = new Proto();
            Wire top = new Wire(data, 0, data.length);
            while (top.more()) {
                int tag = top.tag();
                switch (tag) {
                    case (1 << 3) | 2 -> proto.pieces.add(piece(top.message()));
                    case (2 << 3) | 2 -> trainerSpec(top.message(), proto);
                    case (3 << 3) | 2 -> normalizerSpec(top.message(), proto);
                    default -> top.skip(tag);
                }
            }
            if (proto.pieces.isEmpty()) {
                throw new IllegalArgumentException("no pieces");
            }
            return proto;
        }

        private static Piece piece(Wire w) {
            String piece = "";
            float score = 0;
            int type = NORMAL;
            while (w.more()) {
                int tag = w.tag();
                switch (tag) {
                    case (1 << 3) | 2 -> piece = w.string();
                    case (2 << 3) | 5 -> score = Float.intBitsToFloat(w.fixed32());
                    case (3 << 3) -> type = (int) w.varint();
                    default -> w.skip(tag);
                }
            }
            return new Piece(piece, score, type);
        }

        private static void trainerSpec(Wire w, Proto proto) {
            while (w.more()) {
                int tag = w.tag();
                switch (tag) {
                    case (3 << 3) -> proto.modelType = (int) w.varint();
                    case (35 << 3) -> proto.byteFallback = w.varint() != 0;
                    default -> w.skip(tag);
                }
            }
        }

        private static void normalizerSpec(Wire w, Proto proto) {
            while (w.more()) {
                int tag = w.tag();
                switch (tag) {
                    case (1 << 3) | 2 -> proto.normalizerName = w.string();
                    case (2 << 3) | 2 -> proto.precompiledCharsmap = w.message().remaining() > 0;
                    case (3 << 3) -> proto.addDummyPrefix = w.varint() != 0;
                    case (4 << 3) -> proto.removeExtraWhitespaces = w.varint() != 0;
                    case (5 << 3) -> proto.escapeWhitespaces = w.varint() != 0;
                    default -> w.skip(tag);
                }
            }
        }
    }

    /** A reader over one protobuf message's bytes. */
    private static final class Wire {
        private final byte[] data;
        private int pos;
        private final int end;

        Wire(byte[] data, int pos, int end) {
            this.data = data;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        int remaining() {
            return end - pos;
        }

        int tag() {
            return (int) varint();
        }

        long varint() {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw new IllegalArgumentException("truncated varint");
                }
                byte b = data[pos++];
                value |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return value;
                }
            }
            throw new IllegalArgumentException("malformed varint");
        }

        int fixed32() {
            if (end - pos < 4) {
                throw new IllegalArgumentException("truncated fixed32");
            }
            int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | (data[pos + 3] & 0xff) << 24;
            pos += 4;
            return v;
        }

        Wire message() {
            long len = varint();
            if (len < 0 || len > end - pos) {
                throw new IllegalArgumentException("field length " + len + " past the end of its message");
            }
            Wire sub = new Wire(data, pos, pos + (int) len);
            pos += (int) len;
            return sub;
        }

        String string() {
            Wire sub = message();
            return new String(data, sub.pos, sub.end - sub.pos, StandardCharsets.UTF_8);
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> message();
                case 5 -> pos += 4;
                default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7));
            }
            if (pos > end) {
                throw new IllegalArgumentException("field past the end of its message");
            }
        }
    }

    /** A growable int array, to keep ids unboxed. */
    static final class IntList {
        private int[] items = new int[16];
        private int size;

        void add(int v) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            items[size++] = v;
        }

        void addAll(int[] vs) {
            for (int v : vs) {
                add(v);
            }
        }

        int[] toArray() {
            return Arrays.copyOf(items, size);
        }
    }
}
