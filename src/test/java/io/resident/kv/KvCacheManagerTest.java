package io.resident.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The block pool and the prefix-cache index, without a model: blocks of 4 positions. */
class KvCacheManagerTest {

    private static final int[] TOKENS = IntStream.range(100, 120).toArray();

    @Test
    void aFinishedSequencesFullBlocksServeTheNextPromptWithTheSameTokens() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        BlockTable first = new BlockTable();
        assertEquals(0, kv.reusePrefix(first, TOKENS, 10, 9));
        assertTrue(kv.reserve(first, 10));
        kv.indexFull(first, TOKENS, 10);
        int[] blocks = first.blocks();
        kv.release(first);
        assertEquals(new KvCacheManager.Stats(8, 0, 2), kv.stats(), "two full blocks stay cached, idle");

        BlockTable second = new BlockTable();
        assertEquals(8, kv.reusePrefix(second, TOKENS, 14, 13));
        assertArrayEquals(new int[] {blocks[0], blocks[1]}, second.blocks());
        BlockTable third = new BlockTable();
        assertEquals(8, kv.reusePrefix(third, TOKENS, 9, 8), "shared by two at once");
        assertEquals(2, kv.stats().used());
        kv.verify(List.of(second, third));
    }

    @Test
    void aBlockIsReusedOnlyAfterTheSameTokensFromTheFirst() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        BlockTable first = new BlockTable();
        kv.reserve(first, 12);
        kv.indexFull(first, TOKENS, 12);
        kv.release(first);
        int[] other = TOKENS.clone();
        other[1] = 7; // the first block differs: the second's tokens match, but not what comes before them
        assertEquals(0, kv.reusePrefix(new BlockTable(), other, 12, 11));
        int[] later = TOKENS.clone();
        later[5] = 7;
        assertEquals(4, kv.reusePrefix(new BlockTable(), later, 12, 11));
    }

    @Test
    void idleCachedBlocksAreEvictedLeastRecentlyUsedFirstAndTailFirst() {
        KvCacheManager kv = new KvCacheManager(4, 4, true);
        int[] a = IntStream.range(0, 8).toArray(), b = IntStream.range(50, 58).toArray();
        for (int[] tokens : List.of(a, b)) {
            BlockTable table = new BlockTable();
            kv.reserve(table, 8);
            kv.indexFull(table, tokens, 8);
            kv.release(table);
        }
        BlockTable taker = new BlockTable();
        assertTrue(kv.reserve(taker, 4), "all four blocks are idle: one is evicted");
        BlockTable againA = new BlockTable(), againB = new BlockTable();
        assertEquals(4, kv.reusePrefix(againA, a, 8, 8), "the least recently used block went: a's tail, not its head");
        assertEquals(8, kv.reusePrefix(againB, b, 8, 8));
        kv.verify(List.of(taker, againA, againB));
    }

    @Test
    void aReservationThatCannotBeMetChangesNothing() {
        KvCacheManager kv = new KvCacheManager(3, 4, true);
        BlockTable held = new BlockTable();
        assertTrue(kv.reserve(held, 8));
        BlockTable more = new BlockTable();
        assertFalse(kv.reserve(more, 8));
        assertEquals(0, more.size());
        assertEquals(1, kv.available());
        kv.verify(List.of(held, more));
        assertThrows(IllegalStateException.class, () -> kv.verify(List.of()), "a held block no table names is a leak");
    }

    @Test
    void turnedOffNothingIsIndexed() {
        KvCacheManager kv = new KvCacheManager(4, 4, false);
        BlockTable table = new BlockTable();
        kv.reserve(table, 8);
        kv.indexFull(table, TOKENS, 8);
        kv.release(table);
        assertEquals(new KvCacheManager.Stats(4, 0, 0), kv.stats());
        assertEquals(0, kv.reusePrefix(new BlockTable(), TOKENS, 8, 7));
    }
}
