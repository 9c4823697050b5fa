package io.resident.ops;

import io.resident.ResidentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** "gpu-memory": DOWN when used / total passes RESIDENT_READINESS_VRAM_THRESHOLD, so the pod takes no more traffic. */
@Readiness
@ApplicationScoped
public class GpuMemoryHealthCheck implements HealthCheck {

    private final GpuMemorySource memory;
    private final double threshold;

    GpuMemoryHealthCheck(GpuMemorySource memory, ResidentConfig config) {
        this.memory = memory;
        this.threshold = config.readinessVramThreshold();
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("gpu-memory").withData("threshold", Double.toString(threshold));
        return memory.read()
                .map(reading -> response.status(reading.ratio() <= threshold)
                        .withData("used", reading.used())
                        .withData("total", reading.total())
                        .withData("ratio", String.format(java.util.Locale.ROOT, "%.4f", reading.ratio())))
                .orElseGet(() -> response.up().withData("gpu", "none: the model runs on the CPU"))
                .build();
    }
}
