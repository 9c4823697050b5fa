package io.resident.ops;

import io.resident.engine.Engine;
import io.resident.engine.ModelHolder;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Liveness, "engine-alive": the engine thread is alive and goes round its loop (a step stuck for a minute counts as
 * dead); while the model loads there is no engine yet, which is alive. Readiness, "engine": the engine accepts work.
 * Each probe's check has its own name, so that /q/health, which lists every probe's checks, names each once.
 */
public final class EngineHealthCheck {

    /** A step or an idle wait longer than this means the engine thread is stuck. */
    static final Duration MAX_SILENCE = Duration.ofSeconds(60);

    private EngineHealthCheck() {}

    static HealthCheckResponse check(ModelHolder holder, boolean forReadiness) {
        return check(holder.state(), holder.loaded() ? holder.served().engine() : null, forReadiness);
    }

    /** @param engine the running engine, null while the model loads (or after it failed to) */
    static HealthCheckResponse check(ModelHolder.State holderState, Engine engine, boolean forReadiness) {
        var response = HealthCheckResponse.named(forReadiness ? "engine" : "engine-alive");
        if (engine == null) {
            return response.status(!forReadiness && holderState != ModelHolder.State.FAILED)
                    .withData("state", holderState.name()).build();
        }
        Engine.Health health = engine.health();
        boolean up = forReadiness ? health.state() == Engine.State.RUNNING && health.live(MAX_SILENCE) : health.live(MAX_SILENCE);
        response.status(up).withData("state", health.state().name())
                .withData("sinceHeartbeatMs", health.sinceHeartbeat().toMillis());
        if (health.failure() != null) {
            response.withData("failure", String.valueOf(health.failure()));
        }
        return response.build();
    }

    @Liveness
    @ApplicationScoped
    static class Live implements org.eclipse.microprofile.health.HealthCheck {
        private final ModelHolder holder;

        Live(ModelHolder holder) {
            this.holder = holder;
        }

        @Override
        public HealthCheckResponse call() {
            return check(holder, false);
        }
    }

    @Readiness
    @ApplicationScoped
    static class Ready implements org.eclipse.microprofile.health.HealthCheck {
        private final ModelHolder holder;

        Ready(ModelHolder holder) {
            this.holder = holder;
        }

        @Override
        public HealthCheckResponse call() {
            return check(holder, true);
        }
    }
}
