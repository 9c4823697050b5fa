package io.resident.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A GPU command, not a test: for every fixture, greedy ids and logits of the decode graphs against the eager path (the
 * same fused ops, graphs off) and against transformers' ids (float16 on CUDA; bf16 fixtures in bf16); then 1,000 engine
 * steps of changing batches, graphs against eager. Prints one line per check and exits 1 when a check fails (speed is
 * io.resident.bench.ServingBenchmark's).
 *
 * <p>Argument: the fixtures folder; -Ddevice=cpu runs the id check alone on the CPU.
 */
public final class GpuCheck {

    private static final String DEVICE = System.getProperty("device", "cuda");
    private static final double LOGIT_TOLERANCE = 1e-2;
    private static final int STEPS = 32;
    /** Sequences at once in the changing-batches check. */
    private static final int SLOTS = 8;
    private static boolean failed;

    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Path> dirs;
        try (Stream<Path> list = Files.list(Path.of(args[0]))) {
            dirs = list.filter(d -> Files.exists(d.resolve("golden.json"))).sorted().toList();
        }
        for (Path dir : dirs) {
            JsonNode golden = json.readTree(dir.resolve("golden.json").toFile());
            JsonNode prompts = golden.has("prompts") ? golden.get("prompts") : golden.get("conversations");
            boolean bf16 = ModelLoader.readConfig(dir).dtype().equals("bfloat16");
            // a bf16 checkpoint computed in float16 is shown, not checked: the massive fixture overflows it on purpose
            check(dir.getFileName().toString(), dir, prompts, "float16", "fp16_cuda_ids", !bf16);
            if (bf16) {
                String reference = prompts.get(0).has("bf16_cuda_ids") ? "bf16_cuda_ids" : "bf16_ids";
                check(dir.getFileName().toString(), dir, prompts, "bfloat16", reference, true);
            }
        }
        changingBatches(dirs.stream().filter(d -> d.endsWith("qwen2-tiny")).findFirst().orElseThrow(), 1000);
        System.out.println(failed ? "GPU check FAILED" : "GPU check passed");
        System.exit(failed ? 1 : 0);
    }

    /** Graphs against eager on one fixture; ids against the reference, and logits against eager, must match where checked. */
    private static void check(String name, Path dir, JsonNode prompts, String dtype, String referenceKey, boolean checked) {
        List<int[]> ids = new ArrayList<>();
        prompts.forEach(p -> ids.add(ints(p.get("prompt_ids"))));
        try (CausalLM model = Paged.load(dir, DEVICE, dtype, prompts.size(), 128)) {
            Greedy.Run eager = run(model, ids, false);
            Greedy.Run graphs = run(model, ids, true);
            double logitGap = 0;
            for (int i = 0; i < ids.size(); i++) {
                for (int step = 0; step < eager.logits().get(i).size(); step++) {
                    logitGap = Math.max(logitGap, maxGap(eager.logits().get(i).get(step), graphs.logits().get(i).get(step)));
                }
            }
            boolean sameIds = IntStream.range(0, ids.size()).allMatch(i -> Arrays.equals(eager.ids().get(i), graphs.ids().get(i)));
            boolean close = logitGap <= LOGIT_TOLERANCE;
            StringBuilder line = new StringBuilder(String.format("%s %s on %s [%s]: graph ids %s eager ids, max |logit graph - eager| %.3g%s",
                    name, dtype, DEVICE, model.acceleration().replaceAll(" from \\S+", ""), sameIds ? "==" : "!=", logitGap,
                    close ? "" : " (over " + LOGIT_TOLERANCE + ")"));
            boolean matches = true;
            for (int i = 0; i < ids.size(); i++) {
                int[] reference = ints(prompts.get(i).get(referenceKey));
                int agreed = agree(graphs.ids().get(i), reference);
                // a reference that stopped at its end-of-turn token is compared up to it
                matches &= reference.length > 0 && agreed == Math.min(STEPS, reference.length);
                line.append(String.format("; prompt %d: transformers %s %d/%d, fp32 reference %d/%d", i, referenceKey, agreed,
                        reference.length, agree(graphs.ids().get(i), ints(prompts.get(i).get("output_ids"))), STEPS));
            }
            System.out.println(line + " (" + ((Transformer) model).graphReport() + ")");
            failed |= checked && (!sameIds || !close || !matches);
        }
    }

    private static Greedy.Run run(CausalLM model, List<int[]> prompts, boolean graphs) {
        ((Transformer) model).useGraphs(graphs);
        return Greedy.run(model, prompts, 8, STEPS);
    }

    /**
     * Sequences start and end at seeded random steps in 8 slots (prompts prefilled beside the decodes, batches of every
     * size), so the decode graphs of every bucket replay over changing inputs: their ids must equal the eager run's.
     */
    private static void changingBatches(Path dir, int steps) {
        try (CausalLM model = Paged.load(dir, DEVICE, "float16", SLOTS, 128)) {
            List<Integer> eager = schedule(model, steps, false);
            List<Integer> graphs = schedule(model, steps, true);
            String report = ((Transformer) model).graphReport();
            int agreed = 0;
            while (agreed < Math.min(eager.size(), graphs.size()) && eager.get(agreed).equals(graphs.get(agreed))) {
                agreed++;
            }
            boolean same = agreed == eager.size() && eager.size() == graphs.size();
            System.out.printf("%d steps of changing batches (%d tokens chosen), graphs against eager: %s (%s)%n", steps, eager.size(),
                    same ? "same ids" : "first difference at token " + agreed, report);
            failed |= !same;
        }
    }

    private static List<Integer> schedule(CausalLM model, int steps, boolean graphs) {
        ((Transformer) model).useGraphs(graphs);
        Random random = new Random(7);
        int slots = SLOTS, vocab = model.config().vocabSize();
        int[] position = new int[slots], remaining = new int[slots], next = new int[slots];
        List<Integer> chosen = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            List<CausalLM.Segment> segments = new ArrayList<>();
            List<Integer> of = new ArrayList<>();
            for (int slot = 0; slot < slots; slot++) {
                if (remaining[slot] > 0) {
                    segments.add(new CausalLM.Segment(Paged.slot(model, slot), position[slot]++, new int[] {next[slot]}, false));
                    remaining[slot]--;
                    of.add(slot);
                } else if (random.nextInt(3) == 0) {
                    int[] prompt = random.ints(1 + random.nextInt(24), 0, vocab).toArray();
                    segments.add(new CausalLM.Segment(Paged.slot(model, slot), 0, prompt, false));
                    position[slot] = prompt.length;
                    remaining[slot] = 1 + random.nextInt(model.maxContext() - prompt.length - 1);
                    of.add(slot);
                }
            }
            if (segments.isEmpty()) {
                continue;
            }
            List<CausalLM.Scores> scores = model.step(segments);
            for (int i = 0; i < segments.size(); i++) {
                next[of.get(i)] = scores.get(i).argmax();
                chosen.add(scores.get(i).argmax());
            }
        }
        return chosen;
    }

    private static double maxGap(float[] a, float[] b) {
        double gap = 0;
        for (int i = 0; i < a.length; i++) {
            gap = Math.max(gap, Math.abs(a[i] - b[i]));
        }
        return gap;
    }

    private static int agree(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) {
            n++;
        }
        return n;
    }

    private static int[] ints(JsonNode array) {
        return array == null ? new int[0] : IntStream.range(0, array.size()).map(i -> array.get(i).asInt()).toArray();
    }
}
