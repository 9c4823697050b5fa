package io.resident.ops;

import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;

/** "model": UP once the weights are loaded and the warm-up generate has run; DOWN while loading or after a failure. */
@Readiness
@Startup
@ApplicationScoped
public class ModelHealthCheck implements HealthCheck {

    private final ModelHolder holder;

    ModelHealthCheck(ModelHolder holder) {
        this.holder = holder;
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("model").status(holder.ready()).withData("state", holder.state().name());
        if (holder.ready()) {
            var served = holder.served();
            response.withData("id", served.id()).withData("demo", served.demo()).withData("device", served.device());
        }
        return response.build();
    }
}
