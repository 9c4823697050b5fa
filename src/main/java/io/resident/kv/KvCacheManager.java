package io.resident.kv;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Hands out the paged KV cache's blocks and keeps the prefix-cache index. Not thread-safe: the engine thread alone
 * calls it.
 *
 * <p>A block is free, held (its reference count is how many block tables hold it), or cached and idle: full, in the
 * index, held by none, and evicted least recently used first when a free block is wanted. A full block's key is its
 * token ids plus the key of the block before it, so a block is reused only by a sequence whose every earlier token
 * is the same: no sequence sees a cache made of another's different prefix.
 */
public final class KvCacheManager {

    /** A block's identity in the index: its tokens and the serial of the indexed block before it (0 for the first). */
    private record Key(long parent, int[] tokens) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.parent == parent && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return 31 * Long.hashCode(parent) + Arrays.hashCode(tokens);
        }
    }

    /**
     * Figures for gauges and counters.
     *
     * @param blocks        blocks in the pool
     * @param used          blocks held by at least one sequence
     * @param cached        blocks in the prefix-cache index (held or idle)
     */
    public record Stats(int blocks, int used, int cached) {}

    private final int blockSize;
    private final boolean prefixCaching;
    private final int[] references;
    /** Each block's index serial (0 when not indexed) and key; serials are never reused, so a key names one chain. */
    private final long[] serials;
    private final Key[] keys;
    private final Map<Key, Integer> index = new HashMap<>();
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Indexed blocks nobody holds, least recently used first. */
    private final LinkedHashSet<Integer> idle = new LinkedHashSet<>();
    private long nextSerial = 1;
    private int used;

    /** @param prefixCaching whether full blocks are indexed and reused (RESIDENT_PREFIX_CACHE) */
    public KvCacheManager(int blocks, int blockSize, boolean prefixCaching) {
        if (blocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("a KV cache needs blocks and positions, was " + blocks + " x " + blockSize);
        }
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
        references = new int[blocks];
        serials = new long[blocks];
        keys = new Key[blocks];
        for (int b = 0; b < blocks; b++) {
            free.add(b);
        }
    }

    public int blockSize() {
        return blockSize;
    }

    public int blocks() {
        return references.length;
    }

    /** Blocks a new request could get now: free ones and idle cached ones. */
    public int available() {
        return references.length - used;
    }

    /** Blocks that hold this many positions. */
    public int blocksFor(int positions) {
        return (positions + blockSize - 1) / blockSize;
    }

    /**
     * Puts the indexed blocks that hold the longest prefix of tokens into an empty table, at most limit positions
     * (whole blocks).
     *
     * @param length how many of tokens are the prompt; only its full blocks count
     * @param limit  the most positions to reuse: one token less than the prompt, so that the model computes the
     *               scores of its last
     * @return positions reused
     */
    public int reusePrefix(BlockTable table, int[] tokens, int length, int limit) {
        if (table.size() != 0) {
            throw new IllegalStateException("a prefix is reused only by an empty block table");
        }
        if (!prefixCaching) {
            return 0;
        }
        long parent = 0;
        int reused = 0;
        while (reused + blockSize <= Math.min(limit, length)) {
            Integer block = index.get(new Key(parent, Arrays.copyOfRange(tokens, reused, reused + blockSize)));
            if (block == null) {
                break;
            }
            hold(block);
            table.add(block);
            parent = serials[block];
            reused += blockSize;
        }
        table.indexed = table.size();
        table.lastKey = parent;
        return reused;
    }

    /** Grows table to hold positions [0, positions), or returns false and changes nothing when too few blocks are left. */
    public boolean reserve(BlockTable table, int positions) {
        int more = blocksFor(positions) - table.size();
        if (more > available()) {
            return false;
        }
        for (int i = 0; i < more; i++) {
            table.add(take());
        }
        return true;
    }

    /**
     * Indexes the table's blocks that are full among its first filled positions, whose ids are tokens[0, filled). A
     * block already indexed under the same key (another sequence computed it too) stays the indexed one.
     */
    public void indexFull(BlockTable table, int[] tokens, int filled) {
        if (!prefixCaching) {
            return;
        }
        for (int i = table.indexed; i < filled / blockSize; i++) {
            int block = table.get(i);
            Key key = new Key(table.lastKey, Arrays.copyOfRange(tokens, i * blockSize, (i + 1) * blockSize));
            Integer known = index.get(key);
            if (known == null) {
                index.put(key, block);
                keys[block] = key;
                serials[block] = nextSerial++;
                known = block;
            }
            table.lastKey = serials[known];
            table.indexed = i + 1;
        }
    }

    /** Lets go of every block of the table, last block first so that a prefix's tail is evicted before its head. */
    public void release(BlockTable table) {
        for (int i = table.size() - 1; i >= 0; i--) {
            int block = table.get(i);
            if (--references[block] == 0) {
                used--;
                if (serials[block] != 0) {
                    idle.add(block);
                } else {
                    free.add(block);
                }
            }
        }
        table.clear();
    }

    public Stats stats() {
        return new Stats(references.length, used, index.size());
    }

    /**
     * Checks that every block is in exactly one state and the index agrees with the blocks, given the block tables of
     * every live sequence.
     *
     * @throws IllegalStateException naming the first inconsistency
     */
    public void verify(Iterable<BlockTable> live) {
        int[] held = new int[references.length];
        for (BlockTable table : live) {
            for (int i = 0; i < table.size(); i++) {
                held[table.get(i)]++;
            }
        }
        int heldBlocks = 0;
        for (int b = 0; b < references.length; b++) {
            check(held[b] == references[b], "block " + b + " is held " + held[b] + " times but counts " + references[b]);
            check(free.contains(b) == (references[b] == 0 && serials[b] == 0), "block " + b + " is free or not wrongly");
            check(idle.contains(b) == (references[b] == 0 && serials[b] != 0), "block " + b + " is idle or not wrongly");
            check((serials[b] != 0) == (keys[b] != null && index.get(keys[b]) == b), "block " + b + " disagrees with the index");
            heldBlocks += references[b] > 0 ? 1 : 0;
        }
        check(heldBlocks == used, used + " blocks counted as used, " + heldBlocks + " held");
        check(free.size() + idle.size() + used == references.length, "blocks lost: " + free.size() + " free, "
                + idle.size() + " idle, " + used + " used of " + references.length);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException("KV cache inconsistent: " + message);
        }
    }

    private void hold(int block) {
        if (references[block]++ == 0) {
            used++;
            idle.remove(block);
        }
    }

    /** A free block, else the least recently used idle cached one, taken out of the index. */
    private int take() {
        Integer block = free.poll();
        if (block == null) {
            block = idle.removeFirst();
            index.remove(keys[block]);
            keys[block] = null;
            serials[block] = 0;
        }
        references[block] = 1;
        used++;
        return block;
    }
}
