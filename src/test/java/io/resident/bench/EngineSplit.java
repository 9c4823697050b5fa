package io.resident.bench;

import static io.resident.bench.LoadStats.round;

import io.resident.engine.EngineProfile;
import io.resident.engine.EngineProfile.Phase;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Where the engine thread's time went in a window, by phase: ms a step and shares, for the benchmarks' reports. */
final class EngineSplit {

    private EngineSplit() {}

    /** steps, ms, ms_per_step, then per phase its ms_per_step and pct of the window. */
    static Map<String, Object> of(EngineProfile window) {
        double ms = window.totalNanos() / 1e6;
        long steps = Math.max(1, window.steps());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("steps", window.steps());
        out.put("ms", round(ms));
        out.put("ms_per_step", round(ms / steps));
        for (Phase phase : Phase.values()) {
            double phaseMs = window.nanos(phase) / 1e6;
            out.put(phase.tag(), Map.of("ms_per_step", round(phaseMs / steps), "pct", round(ms == 0 ? 0 : 100 * phaseMs / ms)));
        }
        return out;
    }

    /** One line: "120 steps of 7.10 ms: model 5.80 ms (81.7 %), sample ..." */
    @SuppressWarnings("unchecked")
    static String describe(Map<String, Object> split) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%s steps of %s ms:", split.get("steps"),
                split.get("ms_per_step")));
        String separator = " ";
        for (Phase phase : Phase.values()) {
            Map<String, Object> row = (Map<String, Object>) split.get(phase.tag());
            out.append(String.format(Locale.ROOT, "%s%s %s ms (%s %%)", separator, phase.tag(), row.get("ms_per_step"), row.get("pct")));
            separator = ", ";
        }
        return out.toString();
    }
}
