package io.resident.model;

import java.nio.file.Path;

/**
 * Models in the tests' slot layout: a pool of {@code slots} full contexts, where slot s holds block
 * {@code (perSlot - 1 - i) * slots + s} at its i-th position, so that every test reads keys and values through a block
 * table that is neither contiguous nor in order.
 */
public final class Paged {

    public static final int BLOCK_SIZE = 16;

    private Paged() {}

    public static CausalLM load(Path dir, String device, String dtype, int slots, int context) {
        return ModelLoader.load(dir, device, dtype, blocks(slots, context), BLOCK_SIZE, context);
    }

    public static CausalLM random(ModelConfig config, long seed, String device, String dtype, int slots, int context) {
        return ModelLoader.random(config, seed, device, dtype, blocks(slots, context), BLOCK_SIZE, context);
    }

    /** The block table of a slot, covering the model's whole context. */
    public static int[] slot(CausalLM model, int slot) {
        int perSlot = blocks(1, model.maxContext());
        int slots = model.blocks() / perSlot;
        int[] table = new int[perSlot];
        for (int i = 0; i < perSlot; i++) {
            table[i] = (perSlot - 1 - i) * slots + slot;
        }
        return table;
    }

    private static int blocks(int slots, int context) {
        return slots * ((context + BLOCK_SIZE - 1) / BLOCK_SIZE);
    }
}
