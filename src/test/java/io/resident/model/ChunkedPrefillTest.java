package io.resident.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A long prompt prefilled in chunks, each attending to the cached prefix, computes what one pass over the whole
 * prompt computes; so the engine may bound a prefill step's score matrix at chunk x context.
 */
class ChunkedPrefillTest {

    private static final int PROMPT = 640;
    private static final int CHUNK = 64;

    /** The attention variants: GQA with llama3 RoPE scaling, MQA with a wide head_dim, ChatGLM's half-rotated heads. */
    static Stream<Path> models() {
        return Stream.of(Fixtures.own("llama3-tiny"), Fixtures.own("llama-mqa-tiny"), Fixtures.own("chatglm3-6b-tiny"));
    }

    @ParameterizedTest
    @MethodSource("models")
    void chunksGiveTheLogitsOfOnePass(Path dir) {
        try (CausalLM model = Paged.load(dir, "cpu", "auto", 2, PROMPT + 16)) {
            int[] prompt = randomPrompts(model, 3, PROMPT)[0];
            float[] whole = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 0, prompt)))[0];
            float[] chunked = null;
            for (int start = 0; start < PROMPT; start += CHUNK) {
                int[] part = Arrays.copyOfRange(prompt, start, Math.min(PROMPT, start + CHUNK));
                chunked = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 1), start, part)))[0];
            }
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], chunked[i], 1e-4, dir.getFileName() + " logit " + i);
            }
            // both slots' caches then continue alike, decoded side by side in one batch
            int[] a = new int[4], b = new int[4];
            a[0] = b[0] = CausalLM.Scores.indexOfMax(whole);
            for (int step = 1; step < 4; step++) {
                float[][] rows = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), PROMPT + step - 1, new int[] {a[step - 1]}),
                        new CausalLM.Segment(Paged.slot(model, 1), PROMPT + step - 1, new int[] {b[step - 1]})));
                a[step] = CausalLM.Scores.indexOfMax(rows[0]);
                b[step] = CausalLM.Scores.indexOfMax(rows[1]);
            }
            assertArrayEquals(a, b, dir.getFileName().toString());
        }
    }

    /** Chunks of 50, 45 and 41 tokens: one padded batch (under a quarter of padding) that must not leak between slots. */
    @ParameterizedTest
    @MethodSource("models")
    void promptsOfDifferentLengthsPrefilledTogetherGiveTheLogitsOfEachAlone(Path dir) {
        try (CausalLM model = Paged.load(dir, "cpu", "auto", 4, 128)) {
            int[][] prompts = randomPrompts(model, 5, 50, 45, 41);
            float[][] together = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 0, prompts[0]),
                    new CausalLM.Segment(Paged.slot(model, 1), 0, prompts[1]), new CausalLM.Segment(Paged.slot(model, 2), 0, prompts[2])));
            for (int p = 0; p < prompts.length; p++) {
                float[] alone = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), 0, prompts[p])))[0];
                int next = CausalLM.Scores.indexOfMax(alone);
                float[] aloneNext = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), prompts[p].length, new int[] {next})))[0];
                float[] togetherNext = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, p), prompts[p].length, new int[] {next})))[0];
                for (int i = 0; i < alone.length; i++) {
                    assertEquals(alone[i], together[p][i], 1e-4, dir.getFileName() + " prompt " + p + " logit " + i);
                    assertEquals(aloneNext[i], togetherNext[i], 1e-4, dir.getFileName() + " prompt " + p + " next logit " + i);
                }
            }
        }
    }

    /**
     * A decode token, a 30-token chunk and a 10-token chunk (too short to pad to 30: three attention groups) in one
     * step, so one forward pass, give each sequence the logits it gets alone.
     */
    @ParameterizedTest
    @MethodSource("models")
    void aDecodeBatchAndPromptChunksInOneStepGiveTheLogitsOfEachAlone(Path dir) {
        try (CausalLM model = Paged.load(dir, "cpu", "auto", 4, 128)) {
            int[][] prompts = randomPrompts(model, 7, 40, 30, 10);
            int next = CausalLM.Scores.indexOfMax(model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 0, prompts[0])))[0]);
            float[][] together = model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 0), 40, new int[] {next}),
                    new CausalLM.Segment(Paged.slot(model, 1), 0, prompts[1]), new CausalLM.Segment(Paged.slot(model, 2), 0, prompts[2])));
            model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), 0, prompts[0])));
            float[][] alone = {
                model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), 40, new int[] {next})))[0],
                model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), 0, prompts[1])))[0],
                model.forward(List.of(new CausalLM.Segment(Paged.slot(model, 3), 0, prompts[2])))[0]};
            for (int p = 0; p < alone.length; p++) {
                for (int i = 0; i < alone[p].length; i++) {
                    assertEquals(alone[p][i], together[p][i], 1e-4, dir.getFileName() + " sequence " + p + " logit " + i);
                }
            }
        }
    }

    /** Prompts of the given lengths from one seeded draw, clear of the special ids at both ends of the vocabulary. */
    private static int[][] randomPrompts(CausalLM model, long seed, int... lengths) {
        Random random = new Random(seed);
        return Arrays.stream(lengths).mapToObj(n -> random.ints(n, 3, model.config().vocabSize() - 64).toArray())
                .toArray(int[][]::new);
    }
}
