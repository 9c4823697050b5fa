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
 * Decides the KV cache's slots x context before the model is loaded, so that weights, the cache (allocated once at
 * its full size) and a reserve for one step's activations fit in the device's free memory; refuses with the
 * figures and what would fit when they do not.
 */
public final class KvCacheSizing {

    /** Context lengths are cut to multiples of this when shrunk to fit. */
    static final int CONTEXT_STEP = 256;
    /** A context shrunk below this (or the model's own limit, when smaller) is refused instead. */
    static final int MIN_CONTEXT = 2048;

    /**
     * A sizing that fits.
     *
     * @param slots          KV-cache slots (RESIDENT_MAX_BATCH)
     * @param context        positions per slot
     * @param bytesPerToken  keys and values of one position over all layers
     * @param weightBytes    the weights in the compute dtype
     * @param reserveBytes   kept free for activations
     * @param availableBytes free memory before loading
     */
    public record Plan(int slots, int context, long bytesPerToken, long weightBytes, long reserveBytes, long availableBytes) {

        public long kvBytes() {
            return (long) slots * context * bytesPerToken;
        }

        /** One line for the startup log. */
        public String describe() {
            return String.format(Locale.ROOT, "KV cache %d slots x %d positions = %s, weights %s, reserve %s, of %s free",
                    slots, context, gib(kvBytes()), gib(weightBytes), gib(reserveBytes), gib(availableBytes));
        }
    }

    private KvCacheSizing() {}

    /** Keys and values of one position in every layer: 2 x layers x kvHeads x headDim x dtype bytes. */
    public static long bytesPerToken(ModelConfig config, int dtypeBytes) {
        return 2L * config.layers() * config.kvHeads() * config.headDim() * dtypeBytes;
    }

    /**
     * @param requestedContext positions per slot asked for (RESIDENT_MAX_CONTEXT); 0 or less means the model's own
     *                         limit, shrunk in steps of 256 to what fits
     * @param modelContext     the model's own limit; a larger request is capped to it
     * @throws IllegalStateException when the weights and slots x context cannot fit, naming what would
     */
    public static Plan plan(long availableBytes, long weightBytes, long bytesPerToken, int slots, int requestedContext,
            int modelContext, long reserveBytes) {
        if (slots < 1) {
            throw new IllegalArgumentException("RESIDENT_MAX_BATCH must be at least 1, was " + slots);
        }
        boolean explicit = requestedContext > 0;
        int context = explicit ? Math.min(requestedContext, modelContext) : modelContext;
        long room = availableBytes - weightBytes - reserveBytes;
        if ((long) slots * context * bytesPerToken <= room) {
            return new Plan(slots, context, bytesPerToken, weightBytes, reserveBytes, availableBytes);
        }
        long fitContext = room <= 0 ? 0 : room / ((long) slots * bytesPerToken) / CONTEXT_STEP * CONTEXT_STEP;
        if (!explicit && fitContext >= Math.min(MIN_CONTEXT, modelContext)) {
            return new Plan(slots, (int) fitContext, bytesPerToken, weightBytes, reserveBytes, availableBytes);
        }
        long fitSlots = room <= 0 ? 0 : room / ((long) context * bytesPerToken);
        throw new IllegalStateException(String.format(Locale.ROOT,
                "the model does not fit: weights %s + KV cache %d slots x %d positions (%s) + reserve %s need %s,"
                        + " but %s is free. %s",
                gib(weightBytes), slots, context, gib((long) slots * context * bytesPerToken), gib(reserveBytes),
                gib(weightBytes + (long) slots * context * bytesPerToken + reserveBytes), gib(availableBytes),
                room <= 0
                        ? "The weights alone do not fit: use a smaller model or a float16 dtype on a GPU."
                        : "What fits: " + (fitSlots > 0 ? fitSlots + " slots x " + context + " positions" : "")
                                + (fitSlots > 0 && fitContext > 0 ? ", or " : "")
                                + (fitContext > 0 ? slots + " slots x " + fitContext + " positions" : "")
                                + "; set RESIDENT_MAX_BATCH or RESIDENT_MAX_CONTEXT lower."));
    }

    /** A tenth of the free memory, at least 512 MiB: room for one step's activations and the allocator's slack. */
    public static long defaultReserve(long availableBytes) {
        return Math.max(512L << 20, availableBytes / 10);
    }

    /**
     * What to keep free: on a GPU the activations' room plus the share of its memory above the readiness threshold,
     * so that the model, its cache and one step's activations never turn readiness DOWN by themselves.
     */
    public static long reserve(Device device, long availableBytes, double readinessThreshold) {
        return device.isGpu()
                ? reserve(availableBytes, CudaUtils.getGpuMemory(device).getMax(), readinessThreshold)
                : defaultReserve(availableBytes);
    }

    static long reserve(long availableBytes, long totalBytes, double readinessThreshold) {
        return defaultReserve(availableBytes) + (long) Math.ceil(totalBytes * (1 - readinessThreshold));
    }

    /** Free memory of the device: the GPU's from CUDA, else the host's (the container's limit when there is one). */
    public static long availableBytes(Device device) {
        if (device.isGpu()) {
            MemoryUsage gpu = CudaUtils.getGpuMemory(device);
            return gpu.getMax() - gpu.getCommitted();
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
