package io.resident.ops;

import io.resident.chat.SessionStore;
import io.resident.chat.SessionStoreUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** "session-store": UP while the chat sessions' store answers (always, in memory); DOWN with the reason when Redis does not. */
@Readiness
@ApplicationScoped
public class SessionStoreHealthCheck implements HealthCheck {

    private final SessionStore store;

    SessionStoreHealthCheck(SessionStore store) {
        this.store = store;
    }

    @Override
    public HealthCheckResponse call() {
        try {
            return HealthCheckResponse.named("session-store").up().withData("store", store.check()).build();
        } catch (SessionStoreUnavailableException e) {
            return HealthCheckResponse.named("session-store").down().withData("reason", e.getMessage()).build();
        }
    }
}
