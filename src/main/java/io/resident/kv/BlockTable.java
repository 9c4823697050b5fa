package io.resident.kv;

import java.util.Arrays;

/**
 * The KV-cache blocks of one sequence, in position order: position p lies in block {@code blocks()[p / blockSize]}.
 * Made and changed by {@link KvCacheManager} alone, on the engine thread.
 */
public final class BlockTable {

    private int[] ids = new int[4];
    private int size;
    /** Leading blocks already offered to the prefix-cache index. */
    int indexed;
    /** The index key of the last indexed block, the parent of the next one's key; 0 before the first. */
    long lastKey;

    /** The block ids, a copy as long as the table. */
    public int[] blocks() {
        return Arrays.copyOf(ids, size);
    }

    /** Blocks held. */
    public int size() {
        return size;
    }

    int get(int i) {
        return ids[i];
    }

    void add(int block) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = block;
    }

    void set(int i, int block) {
        ids[i] = block;
    }

    void clear() {
        size = 0;
        indexed = 0;
        lastKey = 0;
    }
}
