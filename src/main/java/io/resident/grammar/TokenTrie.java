package io.resident.grammar;

import io.resident.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * A tokenizer's vocabulary as a trie over each token's decoded bytes (half characters included), built once per
 * tokenizer, and the token masks of grammar positions: a mask is one walk of the trie that feeds each edge's byte
 * to the position and prunes where it is refused, so its cost is bounded by the tokens that can follow. Inside a
 * plain string (no pattern) the tokens that are string content alone come from a precomputed set by their length in
 * characters, and only the few tokens holding a quote or a backslash are walked. Special tokens are never in the
 * trie (never inside constrained output); the tokenizer's stop ids are allowed exactly where the output may end.
 * Masks are cached per position (positions are values) and shared by every request. Thread-safe.
 */
public final class TokenTrie {

    /** Masks kept: each is vocabulary / 8 bytes (19 KB for 151,936 ids). */
    private static final int CACHED_MASKS = 1024;
    /** A string whose positions count every character (an unbounded one stops counting). */
    /** Bytes an unfinished character leaves to write at most, beyond its string's position. */
    private static final int SPLIT_BYTES = 3;
    private static final Value.Str COUNTED_STRING = new Value.Str(0, Integer.MAX_VALUE - 1, null);

    private final int vocabSize;
    private final byte[][] tokenBytes;
    private final int[] stopIds;
    private final Trie all;
    /** Tokens that are not string content alone (a quote, a backslash, a control byte, a split character first). */
    private final Trie stringEnds;
    /** Per id: its characters when it is string content alone (a split last character counts), else -1. */
    private final int[] plainChars;
    /** Per id: whether it is string content that ends inside a character (its last bytes still to come). */
    private final boolean[] splitLast;
    /** By k: the string-content tokens of at most k characters, made when first asked for. */
    private final long[][] plainUpTo;
    /** By position, and by {@link Tight} for a position near the end of the budget. */
    private final Map<Object, Mask> masks = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Mask> eldest) {
            return size() > CACHED_MASKS;
        }
    });

    /**
     * What may come next at one position.
     *
     * @param longest the most bytes an allowed token can leave still to write: a budget below it needs a tight mask
     */
    record Mask(long[] allowed, boolean closed, int longest) {}

    /** The key of a position's mask when at most {@code limit} bytes may be left after the next token. */
    private record Tight(Pos pos, int limit) {}

    /**
     * @param vocabSize the model's vocabulary (its logits rows), which may be larger than the tokenizer's
     */
    public TokenTrie(Tokenizer tokenizer, int vocabSize) {
        this.vocabSize = vocabSize;
        int n = Math.min(vocabSize, tokenizer.vocabularySize());
        this.tokenBytes = new byte[n][];
        for (int id = 0; id < n; id++) {
            byte[] b = tokenizer.tokenBytes(id);
            tokenBytes[id] = b == null || b.length == 0 ? null : b;
        }
        Set<Integer> stops = tokenizer.stopIds();
        this.stopIds = stops.stream().mapToInt(Integer::intValue).filter(id -> id >= 0 && id < vocabSize).toArray();
        for (int id : stopIds) {
            if (id < n) {
                tokenBytes[id] = null;
            }
        }
        plainChars = new int[n];
        splitLast = new boolean[n];
        int longest = 0;
        for (int id = 0; id < n; id++) {
            plainChars[id] = tokenBytes[id] == null ? -1 : plainChars(tokenBytes[id]);
            splitLast[id] = plainChars[id] > 0 && splitsLastCharacter(tokenBytes[id]);
            longest = Math.max(longest, plainChars[id]);
        }
        plainUpTo = new long[longest + 1][];
        all = Trie.build(tokenBytes, id -> true);
        stringEnds = Trie.build(tokenBytes, id -> plainChars[id] < 0);
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** The token's bytes, null for a special token. */
    byte[] bytes(int id) {
        return id < tokenBytes.length ? tokenBytes[id] : null;
    }

    boolean isStop(int id) {
        for (int s : stopIds) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }

    /** Tokens allowed at {@code pos}, from the cache or by one walk of the trie. */
    Mask mask(Pos pos) {
        Mask cached = masks.get(pos);
        if (cached != null) {
            return cached;
        }
        Marks marks = new Marks(vocabSize, Shortest.NONE);
        if (pos instanceof Pos.Str s && s.pattern() == null && s.key() == null && s.pending() == 0 && s.escape() == 0) {
            System.arraycopy(plain(s.node().maxLength - s.length()), 0, marks.allowed, 0, marks.allowed.length);
            marks.most = pos.shortest() + SPLIT_BYTES; // content leaves no more to write, but an unfinished character
            stringEnds.walk(0, pos, marks);
        } else {
            all.walk(0, pos, marks);
        }
        return remember(pos, pos, marks);
    }

    /**
     * Tokens allowed at {@code pos} that leave at most {@code limit} bytes to write, so that the output can still
     * close within the tokens left (a byte a token at worst); where none does, those that leave the fewest.
     */
    Mask mask(Pos pos, int limit) {
        Mask free = mask(pos);
        if (limit >= free.longest()) {
            return free;
        }
        Tight key = new Tight(pos, limit);
        Mask cached = masks.get(key);
        if (cached != null) {
            return cached;
        }
        Marks marks = new Marks(vocabSize, limit);
        if (pos instanceof Pos.Str s && s.pattern() == null && s.key() == null && s.pending() == 0 && s.escape() == 0) {
            tightContent(s, limit, marks.allowed);
            stringEnds.walk(0, pos, marks);
            marks.most = Math.max(marks.most, Math.min(limit, pos.shortest())); // content marked is within the limit
        } else {
            all.walk(0, pos, marks);
        }
        if (marks.most < 0 && !pos.canEnd()) {
            marks = new Marks(vocabSize, marks.least);
            all.walk(0, pos, marks);
        }
        return remember(key, pos, marks);
    }

    /** Completes a walk's mask with the stop ids where the output may end, and caches it. */
    private Mask remember(Object key, Pos pos, Marks marks) {
        long[] allowed = marks.allowed;
        boolean closed = false;
        if (pos.canEnd()) {
            for (int id : stopIds) {
                allowed[id >>> 6] |= 1L << id;
            }
            closed = true;
            for (int b = 0; b < 256 && closed; b++) {
                closed = pos.feed(b) == null;
            }
        }
        if (Arrays.stream(allowed).allMatch(w -> w == 0)) {
            for (int id : stopIds) { // cannot happen for a grammar without dead ends; ends the reply rather than fail
                allowed[id >>> 6] |= 1L << id;
            }
        }
        Mask mask = new Mask(allowed, closed, Math.max(0, marks.most));
        masks.put(key, mask);
        return mask;
    }

    /** The cached mask, or null. */
    Mask cached(Pos pos) {
        return masks.get(pos);
    }

    /**
     * Marks the string content tokens that leave at most {@code limit} bytes: whole characters only, enough of them
     * to bring the string to its minimum length where that is what is left to write.
     */
    private void tightContent(Pos.Str s, int limit, long[] allowed) {
        int fewest = Math.max(1, s.shortest() - limit); // characters a content token must add
        int most = s.node().maxLength - s.length();
        if (fewest > s.node().minLength - s.length()) {
            return; // past its minimum length, content never shortens what is left
        }
        for (int id = 0; id < plainChars.length; id++) {
            if (plainChars[id] >= fewest && plainChars[id] <= most && !splitLast[id]) {
                allowed[id >>> 6] |= 1L << id;
            }
        }
    }

    private long[] plain(int budget) {
        int k = Math.min(Math.max(budget, 0), plainUpTo.length - 1);
        synchronized (plainUpTo) {
            if (plainUpTo[k] == null) {
                long[] bits = new long[(vocabSize + 63) >>> 6];
                for (int id = 0; id < plainChars.length; id++) {
                    if (plainChars[id] > 0 && plainChars[id] <= k) {
                        bits[id >>> 6] |= 1L << id;
                    }
                }
                plainUpTo[k] = bits;
            }
            return plainUpTo[k];
        }
    }

    /** Whether the bytes end inside a UTF-8 character. */
    private static boolean splitsLastCharacter(byte[] bytes) {
        int continuation = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            int b = bytes[i] & 0xFF;
            if ((b & 0xC0) != 0x80) {
                int length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return length > continuation + 1;
            }
            continuation++;
        }
        return false; // continuation bytes alone finish a character split before them
    }

    /** The characters of a token that is string content alone from a character boundary, else -1. */
    private static int plainChars(byte[] bytes) {
        Pos pos = Pos.Str.open(COUNTED_STRING, null, Pos.End.INSTANCE);
        for (byte b : bytes) {
            if (b == '"' || b == '\\') {
                return -1;
            }
            pos = pos.feed(b & 0xFF);
            if (pos == null) {
                return -1;
            }
        }
        Pos.Str s = (Pos.Str) pos;
        return s.length() + (s.pending() > 0 ? 1 : 0);
    }

    /** A walk's result: the tokens that leave at most {@code limit} bytes to write, the most and least any leaves. */
    private static final class Marks {
        final long[] allowed;
        final int limit;
        int most = -1;
        int least = Shortest.NONE;

        Marks(int vocabSize, int limit) {
            this.allowed = new long[(vocabSize + 63) >>> 6];
            this.limit = limit;
        }
    }

    /** Tokens as a trie: nodes numbered depth-first, each with the byte on its incoming edge. */
    private static final class Trie {
        private int[] firstChild;
        private int[] nextSibling;
        private byte[] label;
        private int[] tokensStart;
        private int[] tokens;
        /** Per node: the most bytes a token below it has past the node. */
        private int[] deepest;

        /** Inserts the tokens in byte order, so each node's children come sorted. */
        static Trie build(byte[][] tokenBytes, IntPredicate include) {
            Trie t = new Trie();
            int count = 0;
            int capacity = 1;
            int[] order = new int[tokenBytes.length];
            for (int id = 0; id < tokenBytes.length; id++) {
                if (tokenBytes[id] != null && include.test(id)) {
                    order[count++] = id;
                    capacity += tokenBytes[id].length;
                }
            }
            Integer[] sorted = new Integer[count];
            for (int i = 0; i < count; i++) {
                sorted[i] = order[i];
            }
            Arrays.sort(sorted, (a, b) -> Arrays.compareUnsigned(tokenBytes[a], tokenBytes[b]));
            t.firstChild = new int[capacity];
            t.nextSibling = new int[capacity];
            t.label = new byte[capacity];
            int[] lastChild = new int[capacity];
            int[] endsHere = new int[capacity];
            int[] tokenNode = new int[count];
            Arrays.fill(t.firstChild, -1);
            Arrays.fill(t.nextSibling, -1);
            Arrays.fill(lastChild, -1);
            int nodes = 1;
            int[] path = new int[1];
            byte[] previous = new byte[0];
            for (int i = 0; i < count; i++) {
                byte[] b = tokenBytes[sorted[i]];
                int mismatch = Arrays.mismatch(previous, b);
                int common = mismatch < 0 ? b.length : mismatch;
                if (path.length < b.length + 1) {
                    path = Arrays.copyOf(path, b.length + 1);
                }
                for (int depth = common; depth < b.length; depth++) {
                    int parent = path[depth];
                    int child = nodes++;
                    t.label[child] = b[depth];
                    if (lastChild[parent] < 0) {
                        t.firstChild[parent] = child;
                    } else {
                        t.nextSibling[lastChild[parent]] = child;
                    }
                    lastChild[parent] = child;
                    path[depth + 1] = child;
                }
                tokenNode[i] = path[b.length];
                endsHere[path[b.length]]++;
                previous = b;
            }
            t.tokensStart = new int[nodes + 1];
            for (int node = 0; node < nodes; node++) {
                t.tokensStart[node + 1] = t.tokensStart[node] + endsHere[node];
            }
            t.deepest = new int[nodes];
            for (int node = nodes - 1; node > 0; node--) { // children are numbered after their parents
                for (int child = t.firstChild[node]; child >= 0; child = t.nextSibling[child]) {
                    t.deepest[node] = Math.max(t.deepest[node], t.deepest[child] + 1);
                }
            }
            t.tokens = new int[count];
            int[] fill = Arrays.copyOf(t.tokensStart, nodes);
            for (int i = 0; i < count; i++) {
                t.tokens[fill[tokenNode[i]]++] = sorted[i];
            }
            return t;
        }

        void walk(int node, Pos pos, Marks marks) {
            boolean bounded = marks.limit < Shortest.NONE;
            for (int child = firstChild[node]; child >= 0; child = nextSibling[child]) {
                Pos next = pos.feed(label[child] & 0xFF);
                if (next == null) {
                    continue;
                }
                int left = tokensStart[child] < tokensStart[child + 1] || bounded ? next.shortest() : 0;
                if (tokensStart[child] < tokensStart[child + 1]) {
                    marks.least = Math.min(marks.least, left);
                    if (left <= marks.limit) {
                        marks.most = Math.max(marks.most, left);
                        for (int i = tokensStart[child]; i < tokensStart[child + 1]; i++) {
                            int id = tokens[i];
                            marks.allowed[id >>> 6] |= 1L << id;
                        }
                    }
                }
                // a token's bytes below here can shorten what is left by at most their number
                if (firstChild[child] >= 0 && (!bounded || left - deepest[child] <= marks.limit)) {
                    walk(child, next, marks);
                }
            }
        }
    }
}
