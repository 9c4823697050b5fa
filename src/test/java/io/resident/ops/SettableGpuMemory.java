package io.resident.ops;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** A GPU memory reading a test sets, in place of CUDA's where a test profile selects it; none (as on the CPU) until set. */
@Alternative
@ApplicationScoped
public class SettableGpuMemory implements GpuMemorySource {

    private final AtomicReference<Optional<Reading>> reading = new AtomicReference<>(Optional.empty());

    @Override
    public Optional<Reading> read() {
        return reading.get();
    }

    void set(long used, long total) {
        reading.set(Optional.of(new Reading(used, total)));
    }

    void clear() {
        reading.set(Optional.empty());
    }
}
