package io.resident.engine;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import com.sun.management.OperatingSystemMXBean;
import io.resident.model.ModelConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Decides the paged KV cache's pool and the context: the pool takes the memory left after the weights and the
 * activations of the largest step, estimated from the shape before loading and, on a GPU, measured after; refuses
 * with the figures and what would fit when not even one sequence of the context fits.
 */
public final class KvCacheSizing {

    /** Positions of one KV-cache block. */
    public static final int BLOCK_SIZE = 16;
    /** Context lengths are cut to multiples of this when shrunk to fit. */
    static final int CONTEXT_STEP = 256;
    /** A context shrunk below this (or the model's own limit, when smaller) is refused instead. */
    static final int MIN_CONTEXT = 2048;
    /** Memory no single step shows, kept free beside its activations: the allocator's slack, workspaces, decode graphs. */
    static final long SLACK_BYTES = 512L << 20;

    /**
     * A sizing that fits.
     *
     * @param blocks          KV-cache blocks of {@link #BLOCK_SIZE} positions in the pool
     * @param context         the longest sequence, at most the pool's positions
     * @param bytesPerToken   keys and values of one position over all layers
     * @param weightBytes     the weights in the compute dtype
     * @param activationBytes kept free for the largest step's activations
     * @param availableBytes  memory the model may take
     */
    public record Plan(int blocks, int context, long bytesPerToken, long weightBytes, long activationBytes, long availableBytes) {

        public long kvBytes() {
            return (long) blocks * BLOCK_SIZE * bytesPerToken;
        }

        /** One line for the startup log. */
        public String describe() {
            return String.format(Locale.ROOT, "KV cache %d blocks x %d positions = %s (%.1f contexts of %d), weights %s,"
                            + " activations %s, of %s available",
                    blocks, BLOCK_SIZE, gib(kvBytes()), blocks * (double) BLOCK_SIZE / context, context, gib(weightBytes),
                    gib(activationBytes), gib(availableBytes));
        }
    }

    /**
     * Device memory in use (every process's, as CUDA reports it) at three moments of startup.
     *
     * @param limitBytes         the readiness threshold's share of the device
     * @param beforeLoad         before the weights were loaded
     * @param afterLoad          with the weights and a temporary pool of temporaryPoolBytes
     * @param afterStep          after the largest step ran once: the caching allocator keeps what a step took, so this
     *                           is the step's peak
     * @param temporaryPoolBytes the pool the step ran in, given back when the real one is allocated
     */
    public record Measurement(long limitBytes, long beforeLoad, long afterLoad, long afterStep, long temporaryPoolBytes) {

        /** The weights and whatever else loading took (RoPE tables, the libraries' contexts). */
        public long weightBytes() {
            return Math.max(0, afterLoad - beforeLoad - temporaryPoolBytes);
        }

        /** The largest step's activations at their peak. */
        public long activationBytes() {
            return Math.max(0, afterStep - afterLoad);
        }
    }

    private KvCacheSizing() {}

    /**
     * The pool from a measurement on a GPU: what the readiness limit leaves after the measured weights, the measured
     * activation peak and {@link #SLACK_BYTES}; the context refused or shrunk as {@link #plan} does.
     */
    public static Plan measured(Measurement m, long bytesPerToken, int maxBatch, int requestedContext, int modelContext) {
        return plan(m.limitBytes() - m.beforeLoad(), m.weightBytes(), bytesPerToken, maxBatch, requestedContext, modelContext,
                m.activationBytes() + SLACK_BYTES, false);
    }

    /** Keys and values of one position in every layer: 2 x layers x kvHeads x headDim x dtype bytes. */
    public static long bytesPerToken(ModelConfig config, int dtypeBytes) {
        return 2L * config.layers() * config.kvHeads() * config.headDim() * dtypeBytes;
    }

    /**
     * @param maxBatch         sequences decoded together (RESIDENT_MAX_BATCH)
     * @param requestedContext the longest sequence asked for (RESIDENT_MAX_CONTEXT); 0 or less means the model's own
     *                         limit, shrunk in steps of 256 to what fits
     * @param modelContext     the model's own limit; a larger request is capped to it
     * @param capToBatch       whether the pool stops at maxBatch full contexts instead of taking all that is left (the
     *                         CPU, whose memory the host shares)
     * @throws IllegalStateException when the weights and one sequence of the context cannot fit, naming what would
     */
    public static Plan plan(long availableBytes, long weightBytes, long bytesPerToken, int maxBatch, int requestedContext,
            int modelContext, long activationBytes, boolean capToBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("RESIDENT_MAX_BATCH must be at least 1, was " + maxBatch);
        }
        boolean explicit = requestedContext > 0;
        int context = explicit ? Math.min(requestedContext, modelContext) : modelContext;
        long room = availableBytes - weightBytes - activationBytes;
        long fitBlocks = room <= 0 ? 0 : Math.min(Integer.MAX_VALUE, room / (BLOCK_SIZE * bytesPerToken));
        long fitContext = fitBlocks * BLOCK_SIZE / CONTEXT_STEP * CONTEXT_STEP;
        if (!explicit && fitContext < context && fitContext >= Math.min(MIN_CONTEXT, modelContext)) {
            context = (int) fitContext;
        }
        long contextBlocks = (context + BLOCK_SIZE - 1) / BLOCK_SIZE;
        if (fitBlocks < contextBlocks) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "the model does not fit: weights %s + activations %s + the KV cache of one %d-position sequence (%s)"
                            + " need %s, but %s is available. %s",
                    gib(weightBytes), gib(activationBytes), context, gib(contextBlocks * BLOCK_SIZE * bytesPerToken),
                    gib(weightBytes + activationBytes + contextBlocks * BLOCK_SIZE * bytesPerToken), gib(availableBytes),
                    weightBytes >= availableBytes
                            ? "The weights alone do not fit: use a smaller model or a float16 dtype on a GPU."
                            : room <= 0
                            ? "The largest step's activations leave no room: set RESIDENT_MAX_STEP_TOKENS,"
                                    + " RESIDENT_PREFILL_CHUNK or RESIDENT_MAX_CONTEXT lower."
                            : "What fits: a context of " + fitContext + " positions; set RESIDENT_MAX_CONTEXT lower."));
        }
        long blocks = capToBatch ? Math.min(fitBlocks, maxBatch * contextBlocks) : fitBlocks;
        return new Plan((int) blocks, context, bytesPerToken, weightBytes, activationBytes, availableBytes);
    }

    /**
     * An estimate of the largest step's activations: a prefill chunk of {@code chunk} tokens attending over the whole
     * context (the scores, masked and as probabilities, with softmax's float32 copy; the gathered keys and values; the
     * MLP's intermediates), plus {@link #SLACK_BYTES}.
     */
    public static long activationBytes(ModelConfig config, int dtypeBytes, int chunk, int context) {
        long scores = (long) config.heads() * chunk * context * (2L * dtypeBytes + Float.BYTES);
        long cachedKv = 2L * context * config.kvHeads() * config.headDim() * dtypeBytes;
        long mlp = 4L * chunk * config.intermediateSize() * dtypeBytes;
        long hidden = 8L * chunk * (config.heads() + 2L * config.kvHeads()) * config.headDim() * dtypeBytes;
        return scores + cachedKv + mlp + hidden + SLACK_BYTES;
    }

    /**
     * Memory the model may take: on a GPU what is left under {@code gpuShare} of its memory (the readiness threshold),
     * else the host's free memory (the container's limit when there is one).
     */
    public static long availableBytes(Device device, double gpuShare) {
        if (device.isGpu()) {
            MemoryUsage gpu = CudaUtils.getGpuMemory(device);
            return (long) (gpu.getMax() * gpuShare) - gpu.getCommitted();
        }
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long free = os.getFreeMemorySize();
        long[] hostMemory = hostMemInfo();
        // outside a container the JDK reports MemFree, which leaves out the page cache the kernel would give back
        return hostMemory != null && hostMemory[0] == os.getTotalMemorySize() ? Math.max(free, hostMemory[1]) : free;
    }

    /** MemTotal and MemAvailable of /proc/meminfo in bytes, null where there is none. */
    private static long[] hostMemInfo() {
        try {
            long total = -1, available = -1;
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                String[] f = line.split("\\s+");
                if (f[0].equals("MemTotal:")) {
                    total = Long.parseLong(f[1]) * 1024;
                } else if (f[0].equals("MemAvailable:")) {
                    available = Long.parseLong(f[1]) * 1024;
                }
            }
            return total > 0 && available > 0 ? new long[] {total, available} : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
