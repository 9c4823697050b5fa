package io.resident.bench;

import io.resident.engine.Engine;
import io.resident.engine.EngineOptions;
import io.resident.engine.Generation;
import io.resident.engine.GenerationRequest;
import io.resident.engine.SamplingParams;
import io.resident.engine.TestModel;
import io.resident.engine.TokenStream;
import io.resident.model.GenerationDefaults;
import io.resident.model.ModelConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The engine's CPU throughput at 1, 4, 16 and 64 concurrent streams: every stream gets a distinct random prompt and
 * generates greedily, all submitted at once to an engine with a slot each; aggregate tokens/s is every generated
 * token over the round's wall time (prefill included), per-stream ms/token the mean decode time per token after a
 * stream's first token. A benchmark, not a test: it prints a Markdown table for docs/benchmarks.md.
 *
 * <pre>
 * ./mvnw -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.resident.bench.EngineBench \
 *     -Dexec.args="[model] [tokens per stream] [prompt tokens]"
 * </pre>
 *
 * model: a fixture of src/test/resources/fixtures (default qwen2-tiny), chatglm3-6b-tiny, or a named random shape
 * ({@link #SHAPES}).
 */
public final class EngineBench {

    private static final int[] STREAMS = {1, 4, 16, 64};

    /** Random-weight models of real checkpoints' shapes (config.json of the Hub's models). */
    static final Map<String, ModelConfig> SHAPES = Map.of(
            "qwen2.5-0.5b", new ModelConfig("qwen2", 151_936, 896, 24, 14, 2, 64, 4864, 32_768, List.of(151_643, 151_645),
                    "float32", 1_000_000.0, 64, null, 1e-6, true, true, 0, GenerationDefaults.NONE));

    private EngineBench() {}

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "qwen2-tiny";
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int promptLength = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int slots = STREAMS[STREAMS.length - 1];
        int context = promptLength + tokens;
        try (TestModel test = SHAPES.containsKey(model) ? TestModel.random(model, SHAPES.get(model), slots, context)
                        : TestModel.load(model, slots, context);
                Engine engine = test.engine(new EngineOptions(slots, Duration.ofMinutes(10), 256))) {
            ModelConfig c = test.model().config();
            System.out.printf(Locale.ROOT, "%s: %s, %,d parameters (hidden %d, %d layers, vocab %d), float32 on the CPU, %d threads;"
                            + " %d prompt tokens, %d generated per stream, greedy%n%n", model, c.family(), test.model().parameterCount(),
                    c.hiddenSize(), c.layers(), c.vocabSize(), Runtime.getRuntime().availableProcessors(), promptLength, tokens);
            round(engine, c, 4, promptLength, tokens, 0); // warm-up
            System.out.println("| streams | tokens | seconds | aggregate tokens/s | per-stream ms/token | mean time to first token (ms) |");
            System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
            for (int streams : STREAMS) {
                System.out.println(round(engine, c, streams, promptLength, tokens, streams));
            }
        }
    }

    private static String round(Engine engine, ModelConfig config, int streams, int promptLength, int tokens, long seed)
            throws Exception {
        Random random = new Random(seed);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            requests.add(new GenerationRequest(random.ints(promptLength, 3, Math.min(config.vocabSize(), 30_000)).toArray(),
                    SamplingParams.greedy(tokens)));
        }
        long started = System.nanoTime();
        List<Generation> replies = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Generation>> running = new ArrayList<>();
            for (GenerationRequest request : requests) {
                running.add(threads.submit(() -> {
                    TokenStream stream = engine.submit(request);
                    return stream.collect();
                }));
            }
            for (Future<Generation> reply : running) {
                replies.add(reply.get());
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long generated = replies.stream().mapToLong(g -> g.done().completionTokens()).sum();
        double msPerToken = replies.stream().filter(g -> g.done().tokensPerSecond() > 0)
                .mapToDouble(g -> 1000 / g.done().tokensPerSecond()).average().orElse(Double.NaN);
        double ttft = replies.stream().mapToDouble(g -> g.done().timeToFirstToken().toNanos() / 1e6).average().orElseThrow();
        return String.format(Locale.ROOT, "| %d | %d | %.2f | %.0f | %.1f | %.0f |", streams, generated, seconds,
                generated / seconds, msPerToken, ttft);
    }
}
