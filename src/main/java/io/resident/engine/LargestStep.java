package io.resident.engine;

import io.resident.model.CausalLM.Segment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The largest step a configuration allows, run once at startup to measure its memory: prefill chunks of {@code tokens}
 * tokens in all that the model pads to a quarter more (a 5/8 and a 3/8 chunk, padded to the longer), both at the end
 * of the context so that they attend over all of it. Each writes blocks of its own in a pool of {@link #blocks()}
 * blocks; the positions before them read a block already in their table, so the pool stays small.
 *
 * @param segments the step's segments
 * @param blocks   the pool it needs
 * @param rows     its token rows once padded, for the estimate of its activations
 */
record LargestStep(List<Segment> segments, int blocks, int rows) {

    static LargestStep of(int tokens, int context, int blockSize) {
        int longest = Math.max(1, Math.min(context, 5 * tokens / 8));
        int shorter = Math.min(longest, tokens - longest);
        int start = context - longest;
        List<Segment> segments = new ArrayList<>();
        int next = 0;
        for (int length : shorter > 0 ? new int[] {longest, shorter} : new int[] {longest}) {
            int[] table = new int[(context + blockSize - 1) / blockSize];
            int first = start / blockSize, last = (start + length - 1) / blockSize;
            for (int i = first; i <= last; i++) {
                table[i] = next++;
            }
            Arrays.fill(table, 0, first, table[first]);
            Arrays.fill(table, last + 1, table.length, table[first]);
            segments.add(new Segment(table, start, new int[length], false));
        }
        return new LargestStep(List.copyOf(segments), next, segments.size() * longest);
    }
}
