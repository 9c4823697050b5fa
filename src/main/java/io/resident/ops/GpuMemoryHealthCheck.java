package io.resident.ops;

import io.resident.ResidentConfig;
import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** "gpu-memory": DOWN when used / total passes RESIDENT_READINESS_VRAM_THRESHOLD, so the pod takes no more traffic. */
@Readiness
@ApplicationScoped
public class GpuMemoryHealthCheck implements HealthCheck {

    private final GpuMemorySource memory;
    private final ModelHolder holder;
    private final double threshold;

    GpuMemoryHealthCheck(GpuMemorySource memory, ModelHolder holder, ResidentConfig config) {
        this.memory = memory;
        this.holder = holder;
        this.threshold = config.readinessVramThreshold();
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("gpu-memory").withData("threshold", Double.toString(threshold));
        return memory.read()
                .map(reading -> response.status(reading.ratio() <= threshold)
                        .withData("used", reading.used())
                        .withData("total", reading.total())
                        .withData("ratio", String.format(Locale.ROOT, "%.4f", reading.ratio())))
                .orElseGet(() -> response.up().withData("gpu", holder.state() == ModelHolder.State.LOADING
                        ? "not known until the model is loaded" : "none: the model runs on the CPU"))
                .build();
    }
}
