package io.resident.grammar;

import io.resident.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A tokenizer's vocabulary as a trie over each token's decoded bytes (half characters included), built once per
 * tokenizer, and the token masks of grammar positions: a mask is one walk of the trie that feeds each edge's byte
 * to the position and prunes where it is refused, so its cost is bounded by the tokens that can follow. Special
 * tokens are never in the trie (never inside constrained output); the tokenizer's stop ids are allowed exactly where
 * the output may end. Masks are cached per position (positions are values), shared by every request. Thread-safe.
 */
public final class TokenTrie {

    /** Masks kept: each is vocabulary / 8 bytes (19 KB for 151,936 ids). */
    private static final int CACHED_MASKS = 1024;

    private final int vocabSize;
    private final byte[][] tokenBytes;
    private final int[] stopIds;
    // node arrays: the byte on the edge into a node, its first child, its next sibling, the tokens ending there
    private int[] firstChild;
    private int[] nextSibling;
    private byte[] label;
    private int[] tokensStart;
    private int[] tokens;
    private int nodes;
    private final Map<Pos, Mask> masks = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Pos, Mask> eldest) {
            return size() > CACHED_MASKS;
        }
    });

    /** What may come next at one position. */
    record Mask(long[] allowed, boolean closed) {}

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
        build();
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
        long[] allowed = new long[(vocabSize + 63) >>> 6];
        walk(0, pos, allowed);
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
        Mask mask = new Mask(allowed, closed);
        masks.put(pos, mask);
        return mask;
    }

    /** The cached mask, or null. */
    Mask cached(Pos pos) {
        return masks.get(pos);
    }

    private void walk(int node, Pos pos, long[] allowed) {
        for (int child = firstChild[node]; child >= 0; child = nextSibling[child]) {
            Pos next = pos.feed(label[child] & 0xFF);
            if (next == null) {
                continue;
            }
            for (int t = tokensStart[child]; t < tokensStart[child + 1]; t++) {
                int id = tokens[t];
                allowed[id >>> 6] |= 1L << id;
            }
            if (firstChild[child] >= 0) {
                walk(child, next, allowed);
            }
        }
    }

    /** Inserts the tokens in byte order, so each node's children come sorted and nodes are numbered depth-first. */
    private void build() {
        Integer[] order = new Integer[tokenBytes.length];
        int count = 0;
        for (int id = 0; id < tokenBytes.length; id++) {
            if (tokenBytes[id] != null) {
                order[count++] = id;
            }
        }
        order = Arrays.copyOf(order, count);
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(tokenBytes[a], tokenBytes[b]));
        int capacity = 1;
        for (Integer id : order) {
            capacity += tokenBytes[id].length;
        }
        firstChild = new int[capacity];
        nextSibling = new int[capacity];
        label = new byte[capacity];
        int[] endsHere = new int[capacity + 1];
        int[] tokenNode = new int[count];
        Arrays.fill(firstChild, -1);
        Arrays.fill(nextSibling, -1);
        nodes = 1;
        int[] path = new int[1];
        int[] lastChild = new int[capacity];
        Arrays.fill(lastChild, -1);
        byte[] previous = new byte[0];
        for (int i = 0; i < count; i++) {
            byte[] b = tokenBytes[order[i]];
            int mismatch = Arrays.mismatch(previous, b);
            int common = mismatch < 0 ? b.length : mismatch;
            if (path.length < b.length + 1) {
                path = Arrays.copyOf(path, b.length + 1);
            }
            for (int depth = common; depth < b.length; depth++) {
                int parent = path[depth];
                int child = nodes++;
                label[child] = b[depth];
                if (lastChild[parent] < 0) {
                    firstChild[parent] = child;
                } else {
                    nextSibling[lastChild[parent]] = child;
                }
                lastChild[parent] = child;
                path[depth + 1] = child;
            }
            tokenNode[i] = path[b.length];
            endsHere[path[b.length]]++;
            previous = b;
        }
        tokensStart = new int[nodes + 1];
        for (int node = 0; node < nodes; node++) {
            tokensStart[node + 1] = tokensStart[node] + endsHere[node];
        }
        tokens = new int[count];
        int[] fill = Arrays.copyOf(tokensStart, nodes);
        for (int i = 0; i < count; i++) {
            tokens[fill[tokenNode[i]]++] = order[i];
        }
    }
}
