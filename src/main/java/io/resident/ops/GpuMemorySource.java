package io.resident.ops;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import java.lang.management.MemoryUsage;
import java.util.Optional;

/** GPU memory of the device the model runs on, read from CUDA; empty on the CPU or before the model is loaded. */
@ApplicationScoped
public class GpuMemorySource {

    /** Bytes used and in total on the model's GPU. */
    public record Reading(long used, long total) {
        public double ratio() {
            return total == 0 ? 0 : used / (double) total;
        }
    }

    private final ModelHolder holder;

    GpuMemorySource(ModelHolder holder) {
        this.holder = holder;
    }

    public Optional<Reading> read() {
        if (!holder.ready()) {
            return Optional.empty();
        }
        String device = holder.served().device();
        if (!device.startsWith("cuda:")) {
            return Optional.empty();
        }
        MemoryUsage usage = CudaUtils.getGpuMemory(Device.gpu(Integer.parseInt(device.substring(5))));
        return Optional.of(new Reading(usage.getCommitted(), usage.getMax()));
    }
}
