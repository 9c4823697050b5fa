package io.resident.ops;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;
import java.util.Set;

/**
 * The built-in demo model on the CPU with two slots and a queue of two, so that the bounds are quick to reach; the
 * GPU memory reading is the test's own ({@link SettableGpuMemory}).
 */
public class DemoEngineProfile implements QuarkusTestProfile {

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(SettableGpuMemory.class);
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "resident.model", "demo",
                "resident.device", "cpu",
                "resident.max-context", "4096",
                "resident.max-batch", "2",
                "resident.max-waiting", "2",
                "resident.max-wait", "30s");
    }
}
