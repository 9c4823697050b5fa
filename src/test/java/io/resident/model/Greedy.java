package io.resident.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Greedy decoding of several prompts at once, one slot each: chunked prefill, then batched decode steps. */
final class Greedy {

    /** Generated ids per prompt, and the logits before each generated token. */
    record Run(List<int[]> ids, List<List<float[]>> logits) {}

    private Greedy() {}

    static Run run(CausalLM model, List<int[]> prompts, int chunk, int steps) {
        List<int[]> ids = new ArrayList<>();
        List<List<float[]>> logits = new ArrayList<>();
        int[] next = new int[prompts.size()];
        for (int slot = 0; slot < prompts.size(); slot++) {
            int[] prompt = prompts.get(slot);
            float[] last = null;
            for (int start = 0; start < prompt.length; start += chunk) {
                int[] part = Arrays.copyOfRange(prompt, start, Math.min(prompt.length, start + chunk));
                last = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, slot), start, part)))[0];
            }
            ids.add(new int[steps]);
            logits.add(new ArrayList<>(List.of(last)));
            next[slot] = CausalLM.Scores.indexOfMax(last);
        }
        for (int step = 0; step < steps; step++) {
            List<CausalLM.Segment> batch = new ArrayList<>();
            for (int slot = 0; slot < prompts.size(); slot++) {
                ids.get(slot)[step] = next[slot];
                batch.add(new CausalLM.Segment(Paged.slot(model, slot), prompts.get(slot).length + step, new int[] {next[slot]}));
            }
            if (step == steps - 1) {
                break;
            }
            float[][] rows = model.forward(batch);
            for (int slot = 0; slot < rows.length; slot++) {
                logits.get(slot).add(rows[slot]);
                next[slot] = CausalLM.Scores.indexOfMax(rows[slot]);
            }
        }
        return new Run(ids, logits);
    }

}
