package io.resident.ops;

import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;

/**
 * Readiness, "model": UP once the weights are loaded and the warm-up generate has run, until shutdown; DOWN while
 * loading or after a failure. Startup, "model-loaded": the same until the model is loaded, then UP for good.
 */
@Readiness
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

    @Startup
    @ApplicationScoped
    static class Loaded implements HealthCheck {
        private final ModelHolder holder;

        Loaded(ModelHolder holder) {
            this.holder = holder;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("model-loaded").status(holder.loaded()).withData("state", holder.state().name()).build();
        }
    }
}
