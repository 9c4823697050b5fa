package io.resident.ops;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import java.lang.management.MemoryUsage;
import java.util.Optional;

/** The model's GPU memory as CUDA reports it for the whole device (other processes' use included). */
@ApplicationScoped
class CudaMemorySource implements GpuMemorySource {

    private final ModelHolder holder;

    CudaMemorySource(ModelHolder holder) {
        this.holder = holder;
    }

    @Override
    public Optional<Reading> read() {
        if (!holder.loaded()) {
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
