package io.resident.ops;

import java.util.Optional;

/**
 * GPU memory of the device the model runs on, for the "gpu-memory" readiness check and the GPU memory gauges.
 * {@link CudaMemorySource} reads it from CUDA; a test may install another reading.
 */
public interface GpuMemorySource {

    /** Bytes used and in total on the model's GPU. */
    record Reading(long used, long total) {
        public double ratio() {
            return total == 0 ? 0 : used / (double) total;
        }
    }

    /** The reading now; empty on the CPU or before the model is loaded. */
    Optional<Reading> read();
}
