package io.resident.hub;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Makes the resolver injectable, configured from the environment and reporting to the service's meter registry. */
@Singleton
public class ModelResolverProducer {

    @Produces
    @Singleton
    ModelResolver modelResolver(MeterRegistry registry) {
        return new ModelResolver(HubSettings.fromEnv(System.getenv()), registry);
    }
}
