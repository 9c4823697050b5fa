package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.sun.management.OperatingSystemMXBean;
import io.resident.model.ModelLoader;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class KvCacheSizingTest {

    private static final long GIB = 1L << 30;
    /** ChatGLM3-6B in float16: 2 x 28 layers x 2 KV heads x 128 dims x 2 bytes. */
    private static final long CHATGLM3_PER_TOKEN = 28_672;
    private static final long CHATGLM3_WEIGHTS = 12_487_168_064L;

    @Test
    void bytesPerTokenAreKeysAndValuesOfEveryLayer() {
        // the tiny fixture: 2 layers x 2 KV heads x 16 dims, float32 on the CPU
        assertEquals(2 * 2 * 2 * 16 * 4, KvCacheSizing.bytesPerToken(ModelLoader.readConfig(TinyChatGLM.dir()), 4));
    }

    @Test
    void chatGlm3FitsAnH100WithEightFullSlots() {
        KvCacheSizing.Plan plan = KvCacheSizing.plan(79 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 8, 0, 8192, 2 * GIB);
        assertEquals(8, plan.slots());
        assertEquals(8192, plan.context());
        assertEquals(8L * 8192 * CHATGLM3_PER_TOKEN, plan.kvBytes());
        assertTrue(plan.describe().startsWith("KV cache 8 slots x 8192 positions = 1.75 GiB"), plan.describe());
    }

    @Test
    void anUnsetContextShrinksToWhatFits() {
        // 32k context: 64 slots x 32768 x 28 KiB = 56 GiB would not fit beside 11.6 GiB of weights in 40 GiB
        KvCacheSizing.Plan plan = KvCacheSizing.plan(40 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 64, 0, 32768, 2 * GIB);
        long room = 40 * GIB - CHATGLM3_WEIGHTS - 2 * GIB;
        assertEquals(room / (64 * CHATGLM3_PER_TOKEN) / 256 * 256, plan.context());
        assertTrue(plan.kvBytes() <= room);
    }

    @Test
    void anUnsetContextLeavesTheGpuUnderTheReadinessThreshold() {
        // Llama-3.1-8B in float16 on an 80 GiB GPU with 1 GiB in use: 128 KiB a position, 131072 positions a slot
        long total = 80 * GIB, available = 79 * GIB, weights = 16_060_522_496L, perToken = 131_072;
        KvCacheSizing.Plan plan = KvCacheSizing.plan(available, weights, perToken, 8, 0, 131072,
                KvCacheSizing.reserve(available, total, 0.92));

        long usedWithActivations = total - available + weights + plan.kvBytes() + KvCacheSizing.defaultReserve(available);
        assertTrue(usedWithActivations <= 0.92 * total, usedWithActivations / (double) total + " of the GPU: " + plan.describe());
        assertTrue(plan.context() >= 8192 && plan.context() < 131072, plan.describe());
    }

    @Test
    void anExplicitContextThatCannotFitIsRefusedWithWhatWouldFit() {
        var e = assertThrows(IllegalStateException.class,
                () -> KvCacheSizing.plan(16 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 16, 8192, 8192, GIB));
        // 3.37 GiB of room: 15 slots of 8192 positions, or 16 slots of 7680
        assertTrue(e.getMessage().contains("need 16.13 GiB, but 16.00 GiB is free"), e.getMessage());
        assertTrue(e.getMessage().contains("What fits: 15 slots x 8192 positions, or 16 slots x 7680 positions"), e.getMessage());
    }

    @Test
    void weightsThatAloneExceedMemoryAreRefused() {
        var e = assertThrows(IllegalStateException.class,
                () -> KvCacheSizing.plan(8 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 1, 0, 8192, GIB));
        assertTrue(e.getMessage().contains("The weights alone do not fit"), e.getMessage());
    }

    @Test
    void hostMemoryIsReadOnTheCpu() {
        long free = KvCacheSizing.availableBytes(Device.cpu());
        long total = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        assertTrue(free > 0 && free <= total, free + " free of " + total);
    }
}
