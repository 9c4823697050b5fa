package io.resident.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.sun.management.OperatingSystemMXBean;
import io.resident.model.GenerationDefaults;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoader;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvCacheSizingTest {

    private static final long GIB = 1L << 30;
    /** ChatGLM3-6B in float16: 2 x 28 layers x 2 KV heads x 128 dims x 2 bytes. */
    private static final long CHATGLM3_PER_TOKEN = 28_672;
    private static final long CHATGLM3_WEIGHTS = 12_487_168_064L;
    private static final long BLOCK_BYTES = KvCacheSizing.BLOCK_SIZE * CHATGLM3_PER_TOKEN;

    @Test
    void bytesPerTokenAreKeysAndValuesOfEveryLayer() {
        // the tiny fixture: 2 layers x 2 KV heads x 16 dims, float32 on the CPU
        assertEquals(2 * 2 * 2 * 16 * 4, KvCacheSizing.bytesPerToken(ModelLoader.readConfig(TinyChatGLM.dir()), 4));
    }

    @Test
    void onAGpuThePoolTakesWhatTheWeightsAndActivationsLeave() {
        // ChatGLM3-6B on an H100 under the 0.92 readiness threshold, a 2048-token chunk at 8192 positions in float16
        ModelConfig glm = new ModelConfig("chatglm", 65024, 4096, 28, 32, 2, 128, 13696, 8192, List.of(2),
                "float16", 10000.0, 64, null, 1e-5, true, false, 0, GenerationDefaults.NONE);
        long activations = KvCacheSizing.activationBytes(glm, 2, 2048, 8192);
        assertTrue(activations > 4 * GIB && activations < 6 * GIB, activations / (double) GIB + " GiB");
        long available = (long) (79.1 * GIB * 0.92);
        KvCacheSizing.Plan plan = KvCacheSizing.plan(available, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 64, 0, 8192, activations, false);
        assertEquals((available - CHATGLM3_WEIGHTS - activations) / BLOCK_BYTES, plan.blocks());
        assertEquals(8192, plan.context());
        assertTrue(plan.blocks() * KvCacheSizing.BLOCK_SIZE >= 64L * 8192, "64 chats of 8k fit: " + plan.describe());
        assertTrue(plan.describe().startsWith("KV cache " + plan.blocks() + " blocks x 16 positions"), plan.describe());
    }

    @Test
    void onTheCpuThePoolStopsAtTheBatchsContexts() {
        KvCacheSizing.Plan plan = KvCacheSizing.plan(64 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 8, 0, 8192, GIB, true);
        assertEquals(8 * 8192 / KvCacheSizing.BLOCK_SIZE, plan.blocks());
        assertEquals(8L * 8192 * CHATGLM3_PER_TOKEN, plan.kvBytes());
    }

    @Test
    void anUnsetContextShrinksToWhatOneSequenceCanFill() {
        KvCacheSizing.Plan plan = KvCacheSizing.plan(13 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 8, 0, 32768, GIB, false);
        long room = 13 * GIB - CHATGLM3_WEIGHTS - GIB;
        assertEquals(room / BLOCK_BYTES * KvCacheSizing.BLOCK_SIZE / 256 * 256, plan.context());
        assertEquals(room / BLOCK_BYTES, plan.blocks());
    }

    @Test
    void anExplicitContextThatCannotFitIsRefusedWithWhatWouldFit() {
        var e = assertThrows(IllegalStateException.class,
                () -> KvCacheSizing.plan(13 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 16, 32768, 32768, GIB, false));
        assertTrue(e.getMessage().contains("the KV cache of one 32768-position sequence (0.88 GiB) need"), e.getMessage());
        assertTrue(e.getMessage().contains("What fits: a context of 13824 positions"), e.getMessage());
    }

    @Test
    void weightsThatAloneExceedMemoryAreRefused() {
        var e = assertThrows(IllegalStateException.class,
                () -> KvCacheSizing.plan(8 * GIB, CHATGLM3_WEIGHTS, CHATGLM3_PER_TOKEN, 1, 0, 8192, GIB, false));
        assertTrue(e.getMessage().contains("The weights alone do not fit"), e.getMessage());
    }

    @Test
    void measuredOnAGpuThePoolTakesWhatTheLimitLeavesAfterTheMeasuredPeak() {
        // an H100 under the 0.92 threshold: CUDA's context before loading, ChatGLM3-6B with RoPE tables and a
        // 32-block temporary pool, then the largest step's peak kept by the caching allocator
        long total = (long) (79.1 * GIB), limit = (long) (total * 0.92), before = 600L << 20, temporary = 32 * BLOCK_BYTES;
        long afterLoad = before + CHATGLM3_WEIGHTS + (200L << 20) + temporary, afterStep = afterLoad + (1700L << 20);
        var measured = new KvCacheSizing.Measurement(limit, before, afterLoad, afterStep, temporary);
        KvCacheSizing.Plan plan = KvCacheSizing.measured(measured, CHATGLM3_PER_TOKEN, 64, 0, 8192);
        assertEquals(CHATGLM3_WEIGHTS + (200L << 20), plan.weightBytes());
        assertEquals((1700L << 20) + KvCacheSizing.SLACK_BYTES, plan.activationBytes());
        assertEquals((limit - afterStep + temporary - KvCacheSizing.SLACK_BYTES) / BLOCK_BYTES, plan.blocks());
        assertEquals(8192, plan.context());
        assertTrue(plan.blocks() * KvCacheSizing.BLOCK_SIZE >= 64L * 8192, "64 chats of 8k fit: " + plan.describe());
        assertTrue(plan.describe().contains("weights 11.82 GiB, activations 2.16 GiB, of "), plan.describe());
    }

    @Test
    void measuredAnUnsetContextShrinksAndAnExplicitOneIsRefused() {
        // a GPU with 13.5 GiB under the limit, ChatGLM3-6B-32k's weights, a 1 GiB peak
        long limit = 27 * GIB / 2, afterLoad = CHATGLM3_WEIGHTS, afterStep = afterLoad + GIB;
        var measured = new KvCacheSizing.Measurement(limit, 0, afterLoad, afterStep, 0);
        long room = limit - afterStep - KvCacheSizing.SLACK_BYTES;
        KvCacheSizing.Plan plan = KvCacheSizing.measured(measured, CHATGLM3_PER_TOKEN, 8, 0, 32768);
        assertEquals(room / BLOCK_BYTES, plan.blocks());
        assertEquals(room / BLOCK_BYTES * KvCacheSizing.BLOCK_SIZE / 256 * 256, plan.context());
        assertTrue(plan.context() < 32768 && plan.context() >= 2048, plan.describe());

        var e = assertThrows(IllegalStateException.class,
                () -> KvCacheSizing.measured(measured, CHATGLM3_PER_TOKEN, 8, 32768, 32768));
        assertTrue(e.getMessage().contains("What fits: a context of " + plan.context() + " positions"), e.getMessage());
    }

    @Test
    void measuredActivationsThatLeaveNoRoomAreRefusedNamingTheSettings() {
        long limit = 15 * GIB, afterLoad = CHATGLM3_WEIGHTS, afterStep = limit + GIB;
        var e = assertThrows(IllegalStateException.class, () -> KvCacheSizing.measured(
                new KvCacheSizing.Measurement(limit, 0, afterLoad, afterStep, 0), CHATGLM3_PER_TOKEN, 8, 0, 8192));
        assertTrue(e.getMessage().contains("The largest step's activations leave no room: set RESIDENT_MAX_STEP_TOKENS,"
                + " RESIDENT_PREFILL_CHUNK or RESIDENT_MAX_CONTEXT lower."), e.getMessage());
    }

    @Test
    void hostMemoryIsReadOnTheCpu() {
        long free = KvCacheSizing.availableBytes(Device.cpu(), 0.92);
        long total = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        assertTrue(free > 0 && free <= total, free + " free of " + total);
    }
}
