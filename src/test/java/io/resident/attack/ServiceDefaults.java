package io.resident.attack;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * The service as it ships: the per-address limits the other tests raise (application.properties' %test values) set
 * back to their defaults, so that the attacks run against what an operator gets.
 */
public class ServiceDefaults implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "resident.max-connections-per-client", "32",
                "resident.max-http-connections-per-client", "64",
                "resident.max-sessions-per-client", "100",
                "resident.new-sessions-per-client-per-minute", "60",
                "resident.max-waiting-per-client", "16");
    }
}
