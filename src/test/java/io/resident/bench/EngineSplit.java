package io.resident.bench;

import static io.resident.bench.LoadStats.round;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where the engine thread's time went in a window, by phase (the engine's profile, or the service's
 * resident_engine_thread_seconds_total): ms a step and shares, largest first, for the benchmarks' reports.
 */
final class EngineSplit {

    private EngineSplit() {}

    /**
     * @param steps         model steps in the window
     * @param nanosByPhase  the window's time in each phase, by the phase's name
     * @return steps, ms, ms_per_step, and phases: for each, largest first, its ms_per_step and pct of the window
     */
    static Map<String, Object> of(long steps, Map<String, Long> nanosByPhase) {
        double ms = nanosByPhase.values().stream().mapToLong(Long::longValue).sum() / 1e6;
        long perStep = Math.max(1, steps);
        Map<String, Object> phases = new LinkedHashMap<>();
        nanosByPhase.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.reverseOrder())).forEach(phase -> {
            double phaseMs = phase.getValue() / 1e6;
            phases.put(phase.getKey(), Map.of("ms_per_step", round(phaseMs / perStep), "pct", round(ms == 0 ? 0 : 100 * phaseMs / ms)));
        });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("steps", steps);
        out.put("ms", round(ms));
        out.put("ms_per_step", round(ms / perStep));
        out.put("phases", phases);
        return out;
    }

    /** One line: "120 steps of 7.1 ms: model 5.8 ms (81.69 %), output ..." */
    @SuppressWarnings("unchecked")
    static String describe(Map<String, Object> split) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%s steps of %s ms:", split.get("steps"),
                split.get("ms_per_step")));
        String separator = " ";
        for (Map.Entry<String, Object> phase : ((Map<String, Object>) split.get("phases")).entrySet()) {
            Map<String, Object> row = (Map<String, Object>) phase.getValue();
            out.append(String.format(Locale.ROOT, "%s%s %s ms (%s %%)", separator, phase.getKey(), row.get("ms_per_step"),
                    row.get("pct")));
            separator = ", ";
        }
        return out.toString();
    }
}
