package io.resident.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.engine.DemoModel;
import io.resident.grammar.Constraint;
import io.resident.grammar.Grammar;
import io.resident.grammar.JsonSchema;
import io.resident.grammar.TokenTrie;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * What following a grammar costs per token, without a model: Qwen3's vocabulary (or its first --vocab ids, as the
 * tiny fixtures' output layer has them), 8 sequences held to --schema, each token drawn at random among the allowed
 * ones; a token's cost is waiting for its mask (from the cache, or a trie walk on a mask thread) plus advancing past
 * it (the draw itself is the sampler's, not timed). Prints the trie's build
 * time, the first round (every mask new) and the median of the later rounds.
 *
 * <pre>
 * java -cp ... io.resident.bench.ConstraintBenchmark --schema src/test/resources/io/resident/bench/constrained.schema.json \
 *     [--vocab 1000] [--sequences 8] [--tokens 64] [--rounds 30]
 * </pre>
 */
public final class ConstraintBenchmark {

    private ConstraintBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].substring(2), args[i + 1]);
        }
        int sequences = Integer.parseInt(a.getOrDefault("sequences", "8"));
        int tokens = Integer.parseInt(a.getOrDefault("tokens", "64"));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "30"));
        try (Tokenizer tokenizer = Tokenizers.load(DemoModel.tokenizerDirectory())) {
            int vocab = Integer.parseInt(a.getOrDefault("vocab", Integer.toString(tokenizer.vocabularySize())));
            long begin = System.nanoTime();
            TokenTrie trie = new TokenTrie(tokenizer, vocab);
            double buildMs = (System.nanoTime() - begin) / 1e6;
            Grammar grammar = Grammar.json(JsonSchema.compile(new ObjectMapper().readTree(Path.of(a.get("schema")).toFile())));
            double[] usPerToken = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                Random random = new Random(round % 4);
                long nanos = 0;
                int steps = 0;
                int[] ids = new int[vocab];
                for (int s = 0; s < sequences; s++) {
                    Constraint c = new Constraint(grammar, trie, tokens);
                    for (int t = 0; t < tokens && !c.finished(); t++) {
                        long start = System.nanoTime();
                        long[] allowed = c.allowed();
                        nanos += System.nanoTime() - start;
                        int n = 0;
                        for (int w = 0; w < allowed.length; w++) {
                            for (long bits = allowed[w]; bits != 0; bits &= bits - 1) {
                                ids[n++] = (w << 6) + Long.numberOfTrailingZeros(bits);
                            }
                        }
                        int id = ids[random.nextInt(n)];
                        start = System.nanoTime();
                        c.advance(id);
                        nanos += System.nanoTime() - start;
                        steps++;
                    }
                }
                usPerToken[round] = nanos / 1e3 / steps;
            }
            double[] warm = Arrays.copyOfRange(usPerToken, 1, rounds);
            Arrays.sort(warm);
            System.out.printf("vocabulary %,d ids: trie built in %.0f ms; per constrained token: first round %.1f us, "
                    + "later rounds (median of %d) %.1f us; a decode step of %d constrained sequences adds %.2f ms%n",
                    vocab, buildMs, usPerToken[0], warm.length, warm[warm.length / 2], sequences,
                    sequences * warm[warm.length / 2] / 1e3);
        }
        System.exit(0); // the mask threads are daemons, but the tokenizer's native threads may linger
    }
}
