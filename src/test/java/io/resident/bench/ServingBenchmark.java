package io.resident.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.resident.engine.DemoModel;
import io.resident.engine.Engine;
import io.resident.engine.EngineMetrics;
import io.resident.engine.EngineOptions;
import io.resident.engine.EngineProfile;
import io.resident.engine.ForwardingModel;
import io.resident.engine.Generation;
import io.resident.engine.GenerationRequest;
import io.resident.engine.SamplingParams;
import io.resident.grammar.Grammar;
import io.resident.grammar.JsonSchema;
import io.resident.model.CausalLM;
import io.resident.model.CausalLM.Segment;
import io.resident.model.ModelConfig;
import io.resident.model.ModelLoader;
import io.resident.model.Paged;
import io.resident.tokenizer.Tokenizer;
import io.resident.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How fast resident serves a model: load to ready, time to first token by prompt length, the model's decode step
 * by batch size, aggregate tokens/s by concurrent streams through the engine, a chat whose history grows turn by
 * turn (time to first token per turn, with the prefix cache and without), many chats of mixed lengths in a KV-cache
 * pool of a few full contexts, and a prompt as long as the context, plus peak device memory. Prints a table and
 * writes the figures as JSON.
 *
 * <pre>
 * java -cp ... io.resident.bench.ServingBenchmark --shape chatglm3-6b --device cuda --dtype float16 --json out.json
 * java -cp ... io.resident.bench.ServingBenchmark --model /models/chatglm3-6b --device cuda
 * java -cp ... io.resident.bench.ServingBenchmark --shape chatglm3-6b --device cuda --dtype float16 --interference 8,7000
 * java -cp ... io.resident.bench.ServingBenchmark --model src/test/resources/fixtures/qwen2-tiny --device cpu \
 *     --streams 8 --schema src/test/resources/io/resident/bench/constrained.schema.json
 * ./mvnw -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.resident.bench.ServingBenchmark \
 *     -Dexec.args="--model src/test/resources/fixtures/qwen2-tiny --device cpu --streams 1,4,16,64"
 * </pre>
 *
 * Options and defaults: --prompts 128,2048,8192 (time to first token), --batches 1,8,32 (decode steps),
 * --streams 1,8,32,64, --tokens 128 and --stream-prompt 128 (each stream's reply and prompt), --prefill-chunk and
 * --max-step-tokens (as RESIDENT_PREFILL_CHUNK and RESIDENT_MAX_STEP_TOKENS; unset, the service's defaults for the
 * device), --decode-steps 128, --device auto, --dtype auto, --json FILE; --interference D,L (D streams decode, then D
 * prompts of L tokens arrive at once: the streams' inter-token latency while those prefill against D streams alone;
 * 0 skips it, the default); --chat-turns 10 and --chat-history 6000 (turns of a
 * chat and the history they reach, each reply 128 tokens), --pool-chats 64, --pool-slots 16 and --pool-context 8192
 * (chats of up to a context each, at once, in a pool of that many full contexts); 0 turns or chats skips one;
 * --schema FILE (also run every stream held to this JSON schema, as response_format json_schema does, and report the
 * per-token overhead). A model directory without tokenizer files (a test fixture) streams its text through Qwen3's
 * tokenizer. Every engine is the service's (its step budget included), and each run of streams reports where the
 * engine thread's time went (model, sampling, scheduling, output, idle).
 *
 * A named shape (chatglm3-6b, qwen2.5-0.5b, qwen2.5-7b, llama-3.1-8b) is built with seeded random weights; replies
 * then never end early, since every stream is given exactly --tokens tokens (end-of-sequence ids are ignored, as
 * vLLM's benchmarks do). Prompts are random ids, so no prefix is shared between requests but a chat's turns.
 */
public final class ServingBenchmark {

    /** One run's settings, from the command line. */
    record Options(String shape, Path model, String device, String dtype, List<Integer> prompts, List<Integer> batches,
            List<Integer> streams, int tokens, int streamPrompt, int prefillChunk, int maxStepTokens, int decodeSteps,
            int interferenceStreams, int interferencePrompt, int chatTurns, int chatHistory, int poolChats, int poolSlots,
            int poolContext, Path json, Path schema) {

        static Options parse(String[] args) {
            Map<String, String> a = new LinkedHashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
                }
                a.put(args[i].substring(2), args[i + 1]);
            }
            if (a.containsKey("shape") == a.containsKey("model")) {
                throw new IllegalArgumentException("give one of --shape " + Shapes.NAMES + " or --model <directory>");
            }
            List<Integer> interference = ints(a.getOrDefault("interference", "0"));
            if (!(interference.equals(List.of(0)) || interference.size() == 2 && interference.stream().allMatch(n -> n > 0))) {
                throw new IllegalArgumentException("--interference takes D,L (streams, prompt tokens) or 0, got " + interference);
            }
            return new Options(a.get("shape"), a.containsKey("model") ? Path.of(a.get("model")) : null,
                    a.getOrDefault("device", "auto"), a.getOrDefault("dtype", "auto"),
                    ints(a.getOrDefault("prompts", "128,2048,8192")), ints(a.getOrDefault("batches", "1,8,32")),
                    ints(a.getOrDefault("streams", "1,8,32,64")), Integer.parseInt(a.getOrDefault("tokens", "128")),
                    Integer.parseInt(a.getOrDefault("stream-prompt", "128")),
                    Integer.parseInt(a.getOrDefault("prefill-chunk", "0")),
                    Integer.parseInt(a.getOrDefault("max-step-tokens", "0")),
                    Integer.parseInt(a.getOrDefault("decode-steps", "128")),
                    interference.getFirst(), interference.getLast(),
                    Integer.parseInt(a.getOrDefault("chat-turns", "10")), Integer.parseInt(a.getOrDefault("chat-history", "6000")),
                    Integer.parseInt(a.getOrDefault("pool-chats", "64")), Integer.parseInt(a.getOrDefault("pool-slots", "16")),
                    Integer.parseInt(a.getOrDefault("pool-context", "8192")),
                    a.containsKey("json") ? Path.of(a.get("json")) : null,
                    a.containsKey("schema") ? Path.of(a.get("schema")) : null);
        }

        private static List<Integer> ints(String csv) {
            return Arrays.stream(csv.split(",")).map(String::strip).map(Integer::valueOf).toList();
        }
    }

    /** Decode steps run before the timed ones. */
    static final int DECODE_WARMUP = 4;
    /** Tokens of each reply in the chat measurement. */
    static final int CHAT_REPLY = 128;
    /** Timed rounds of free and constrained streams, alternated so that both see the same machine. */
    static final int CONSTRAINED_ROUNDS = 5;
    /** Untimed rounds first: new grammar positions get their masks once, and the JIT compiles the mask code. */
    static final int CONSTRAINED_WARMUP = 3;

    private final Options options;
    private final Random random = new Random(7);
    private final Map<String, Object> report = new LinkedHashMap<>();
    private long peakDeviceBytes;

    ServingBenchmark(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        Map<String, Object> report = new ServingBenchmark(options).run();
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        if (options.json() != null) {
            Files.writeString(options.json(), json);
        }
        System.out.println(Table.of(report));
    }

    Map<String, Object> run() throws Exception {
        // the interference run holds its decoding streams and its arriving prompts at once
        int engineSlots = Math.max(max(options.streams()), 2 * options.interferenceStreams());
        int slots = Math.max(Math.max(max(options.batches()), engineSlots), options.poolSlots());
        long started = System.nanoTime();
        int context = Math.max(Math.max(max(options.prompts()) + 1,
                options.streamPrompt() + Math.max(options.tokens(), DECODE_WARMUP + options.decodeSteps()) + 1),
                Math.max(Math.max(options.chatHistory() + CHAT_REPLY + 1, options.poolContext()), options.interferencePrompt() + 1));
        // without the prefix cache, as its prompts share nothing and decodeSteps writes the model's blocks directly
        EngineOptions served = engineOptions(ModelLoader.device(options.device()), engineSlots, false);
        try (Shapes.Loaded loaded = Shapes.load(options, slots, context);
                Engine engine = new Engine(loaded.model(), loaded.tokenizer(), served, EngineMetrics.NONE)) {
            CausalLM model = loaded.model();
            engine.generate(new GenerationRequest(randomIds(model.config(), 8), SamplingParams.greedy(1)));
            double loadSeconds = (System.nanoTime() - started) / 1e9;
            ModelConfig c = model.config();
            report.put("date", java.time.LocalDate.now().toString());
            report.put("model", loaded.name());
            report.put("device", loaded.deviceName());
            report.put("dtype", loaded.dtype());
            report.put("parameters", model.parameterCount());
            report.put("layers", c.layers());
            report.put("hidden", c.hiddenSize());
            report.put("slots", engine.slots());
            report.put("kv_blocks", model.blocks());
            report.put("context", engine.maxContext());
            report.put("prefill_chunk", served.prefillChunk());
            report.put("max_step_tokens", served.maxStepTokens());
            report.put("load_to_ready_s", round(loadSeconds));
            sampleMemory(loaded.device());
            report.put("time_to_first_token_ms", timeToFirstToken(engine, c, loaded.device()));
            report.put("decode_ms_per_step", decodeSteps(model, loaded.device()));
            report.put("native_op_us", nativeOpMicros(loaded.device(), c.hiddenSize()));
            report.put("streams", streams(engine, c, loaded.device(), null));
            if (options.schema() != null) {
                report.put("constrained_streams", constrainedStreams(engine, c, loaded.device()));
            }
            if (options.interferenceStreams() > 0) {
                report.put("interference", interference(engine, c, loaded.device()));
            }
            report.put("prompt_as_long_as_the_context", longPrompt(engine, c, loaded.device()));
            if (options.chatTurns() > 0) {
                report.put("chat", chat(model, loaded.tokenizer(), loaded.device()));
            }
            if (options.poolChats() > 0) {
                report.put("pooled_chats", pooledChats(model, loaded.tokenizer(), loaded.device()));
            }
            report.put("peak_device_memory_bytes", peakDeviceBytes);
            return report;
        }
    }

    /** One request alone per prompt length: prefill (in chunks of --prefill-chunk) plus the first sampled token. */
    private Map<String, Object> timeToFirstToken(Engine engine, ModelConfig c, Device device) throws InterruptedException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int requested : options.prompts()) {
            int length = Math.min(requested, engine.maxContext() - 1);
            double[] ms = new double[3];
            for (int i = 0; i < ms.length; i++) {
                Generation g = engine.generate(new GenerationRequest(randomIds(c, length), SamplingParams.greedy(1)));
                ms[i] = g.done().timeToFirstToken().toNanos() / 1e6;
            }
            sampleMemory(device);
            out.put(Integer.toString(length), Map.of("ms", round(median(ms)), "prefill_tokens_per_s",
                    round(length / (median(ms) / 1e3))));
        }
        return out;
    }

    /**
     * The model's forward pass alone for a batch of single-token decode segments, each slot holding
     * --stream-prompt positions, with the scores greedy decoding takes: what one engine step costs before
     * sampling.
     */
    private Map<String, Object> decodeSteps(CausalLM model, Device device) {
        Map<String, Object> out = new LinkedHashMap<>();
        ModelConfig c = model.config();
        for (int batch : options.batches()) {
            for (int slot = 0; slot < batch; slot++) {
                model.forward(List.of(new Segment(Paged.slot(model, slot), 0, randomIds(c, options.streamPrompt()))));
            }
            long begin = 0;
            for (int step = 0; step < DECODE_WARMUP + options.decodeSteps(); step++) {
                if (step == DECODE_WARMUP) {
                    begin = System.nanoTime();
                }
                List<Segment> segments = new ArrayList<>();
                for (int slot = 0; slot < batch; slot++) {
                    segments.add(new Segment(Paged.slot(model, slot), options.streamPrompt() + step, randomIds(c, 1), false));
                }
                model.step(segments);
            }
            double ms = (System.nanoTime() - begin) / 1e6 / options.decodeSteps();
            sampleMemory(device);
            out.put(Integer.toString(batch), Map.of("ms", round(ms), "tokens_per_s", round(batch * 1e3 / ms)));
        }
        return out;
    }

    /**
     * What one small native op costs through DJL from Java (an add of two [1, hidden] arrays, its result freed): the
     * per-op price that a decode step of small arrays pays about fifty times a layer.
     */
    private static double nativeOpMicros(Device device, int hidden) {
        try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
            NDArray a = manager.ones(new Shape(1, hidden), DataType.FLOAT16);
            NDArray b = manager.ones(new Shape(1, hidden), DataType.FLOAT16);
            int ops = 20_000;
            long begin = 0;
            for (int i = -ops / 10; i < ops; i++) {
                if (i == 0) {
                    begin = System.nanoTime();
                }
                a.add(b).close();
            }
            a.add(b).toFloatArray(); // waits for the device to finish the queue
            return round((System.nanoTime() - begin) / 1e3 / ops);
        }
    }

    /**
     * The engine's step time with N concurrent streams, free and held to --schema, greedy: after untimed rounds of
     * each, the median over alternated rounds. A held reply ends where its JSON closes, so each round's free streams
     * get the lengths its held ones reached, one for one: both windows then run the same steps at the same batch
     * sizes, and the busy time a step (the engine thread's, less its idle time) compares the two.
     */
    private Map<String, Object> constrainedStreams(Engine engine, ModelConfig c, Device device) throws Exception {
        Grammar grammar = Grammar.json(JsonSchema.compile(new ObjectMapper().readTree(options.schema().toFile())));
        Map<String, Object> out = new LinkedHashMap<>();
        for (int n : options.streams()) {
            int[] full = new int[n];
            Arrays.fill(full, options.tokens());
            for (int round = 0; round < CONSTRAINED_WARMUP; round++) {
                int[] reached = (int[]) streams(engine, c, device, grammar, full).get("generated_each");
                streams(engine, c, device, null, reached);
            }
            double[] freeStep = new double[CONSTRAINED_ROUNDS], heldStep = new double[CONSTRAINED_ROUNDS];
            double[] freeToken = new double[CONSTRAINED_ROUNDS], heldToken = new double[CONSTRAINED_ROUNDS];
            long heldTokens = 0;
            for (int round = 0; round < CONSTRAINED_ROUNDS; round++) {
                Map<String, Object> held = streams(engine, c, device, grammar, full);
                Map<String, Object> free = streams(engine, c, device, null, (int[]) held.get("generated_each"));
                heldTokens += ((Number) held.get("generated")).longValue();
                heldStep[round] = ((Number) held.get("busy_ms_per_step")).doubleValue();
                freeStep[round] = ((Number) free.get("busy_ms_per_step")).doubleValue();
                heldToken[round] = ((Number) held.get("ms_per_token_median")).doubleValue();
                freeToken[round] = ((Number) free.get("ms_per_token_median")).doubleValue();
            }
            double f = median(freeStep), k = median(heldStep);
            out.put(Integer.toString(n), Map.of("free_busy_ms_per_step", round(f), "constrained_busy_ms_per_step", round(k),
                    "step_overhead_pct", round(100 * (k - f) / f), "free_ms_per_token", round(median(freeToken)),
                    "constrained_ms_per_token", round(median(heldToken)), "constrained_tokens_per_round", heldTokens / CONSTRAINED_ROUNDS));
        }
        return out;
    }

    private Map<String, Object> streams(Engine engine, ModelConfig c, Device device, Grammar grammar) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int n : options.streams()) {
            int[] tokens = new int[n];
            Arrays.fill(tokens, options.tokens());
            out.put(Integer.toString(n), streams(engine, c, device, grammar, tokens));
        }
        return out;
    }

    /**
     * Concurrent streams, each a --stream-prompt-token prompt and exactly its count of tokens, greedy; held to the
     * grammar when there is one (a reply then ends early where its JSON closes).
     */
    private Map<String, Object> streams(Engine engine, ModelConfig c, Device device, Grammar grammar, int[] tokens)
            throws Exception {
        List<Callable<Generation>> calls = new ArrayList<>();
        for (int count : tokens) {
            SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(count).ignoreEos(true).grammar(grammar).build();
            int[] prompt = randomIds(c, options.streamPrompt());
            calls.add(() -> engine.generate(new GenerationRequest(prompt, params)));
        }
        long begin = System.nanoTime();
        EngineProfile before = engine.profile();
        List<Generation> replies = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<Generation> f : threads.invokeAll(calls)) {
                replies.add(f.get());
            }
        }
        double seconds = (System.nanoTime() - begin) / 1e9;
        EngineProfile window = engine.profile().since(before);
        int[] each = replies.stream().mapToInt(g -> g.done().completionTokens()).toArray();
        long generated = Arrays.stream(each).sum();
        double[] msPerToken = replies.stream().mapToDouble(g -> 1e3 / g.done().tokensPerSecond()).toArray();
        double[] ttft = replies.stream().mapToDouble(g -> g.done().timeToFirstToken().toNanos() / 1e6).toArray();
        sampleMemory(device);
        return Map.of(
                "tokens_per_s", round(generated / seconds),
                "ms_per_token_median", round(median(msPerToken)),
                "time_to_first_token_ms_median", round(median(ttft)),
                "generated", generated,
                "generated_each", each,
                "busy_ms_per_step", round((window.totalNanos() - window.nanos(EngineProfile.Phase.IDLE)) / 1e6 / Math.max(1, window.steps())),
                "engine_thread", engineSplit(window));
    }

    /** The engine thread's split in a window of the engine's profile. */
    static Map<String, Object> engineSplit(EngineProfile window) {
        Map<String, Long> nanos = new LinkedHashMap<>();
        for (EngineProfile.Phase phase : EngineProfile.Phase.values()) {
            nanos.put(phase.tag(), window.nanos(phase));
        }
        return EngineSplit.of(window.steps(), nanos);
    }

    /**
     * --interference D,L: D streams decoding while D prompts of L tokens prefill, against the plain decode step of D
     * streams, with the engine thread's split in each window.
     */
    private Map<String, Object> interference(Engine engine, ModelConfig c, Device device) throws Exception {
        Map<String, Object> out = new Interference(engine, options.streamPrompt(), options.decodeSteps(), n -> randomIds(c, n))
                .measure(options.interferenceStreams(), options.interferencePrompt());
        sampleMemory(device);
        return out;
    }

    /** One prompt of the context's length less one, then one token more than the context: served, then refused. */
    private Map<String, Object> longPrompt(Engine engine, ModelConfig c, Device device) throws InterruptedException {
        int length = engine.maxContext() - 1;
        Generation g = engine.generate(new GenerationRequest(randomIds(c, length), SamplingParams.greedy(1)));
        sampleMemory(device);
        String longer;
        try {
            engine.submit(new GenerationRequest(randomIds(c, length + 1), SamplingParams.greedy(1)));
            longer = "admitted";
        } catch (IllegalArgumentException e) {
            longer = "refused";
        }
        return Map.of("tokens", length, "time_to_first_token_ms", round(g.done().timeToFirstToken().toNanos() / 1e6),
                "one_more_token", longer, "engine_after", engine.health().state().toString());
    }

    /**
     * One chat, --chat-turns turns of a user message and a CHAT_REPLY-token reply whose history reaches --chat-history
     * tokens: each turn's prompt is the last one, its reply and a new message. Time to first token per turn, on an
     * engine with the prefix cache and on one without.
     */
    private Map<String, Object> chat(CausalLM model, Tokenizer tokenizer, Device device) throws InterruptedException {
        Map<String, Object> out = new LinkedHashMap<>();
        int message = Math.max(1, options.chatHistory() / options.chatTurns() - CHAT_REPLY);
        SamplingParams reply = SamplingParams.builder().temperature(0).maxTokens(CHAT_REPLY).ignoreEos(true).build();
        for (boolean cached : new boolean[] {true, false}) {
            Random ids = new Random(3);
            List<Double> ttft = new ArrayList<>();
            int[] history = new int[0];
            int lastCached = 0;
            try (Engine engine = new Engine(model, tokenizer, engineOptions(device, 1, cached), EngineMetrics.NONE)) {
                for (int turn = 0; turn < options.chatTurns(); turn++) {
                    int[] prompt = concat(history, randomIds(model.config(), message, ids));
                    Generation g = engine.generate(new GenerationRequest(prompt, reply));
                    ttft.add(round(g.done().timeToFirstToken().toNanos() / 1e6));
                    lastCached = g.done().cachedTokens();
                    history = concat(prompt, g.tokenIds());
                }
            }
            sampleMemory(device);
            out.put(cached ? "prefix_cache" : "no_prefix_cache", Map.of("ttft_ms_by_turn", ttft,
                    "last_prompt_tokens", history.length - CHAT_REPLY, "last_cached_tokens", lastCached,
                    "last_over_first", round(ttft.getLast() / ttft.getFirst())));
        }
        return out;
    }

    /**
     * --pool-chats chats at once, their prompts from 256 tokens up to a --pool-context context (a cubic spread: most
     * short, a few long), each --tokens tokens, in a KV-cache pool of --pool-slots full contexts: what the slot cache
     * served as --pool-slots slots. Every chat must end its reply; preemptions and the peak block use are counted.
     */
    private Map<String, Object> pooledChats(CausalLM model, Tokenizer tokenizer, Device device) throws Exception {
        int n = options.poolChats();
        int blocks = options.poolSlots() * ((options.poolContext() + model.blockSize() - 1) / model.blockSize());
        CausalLM pool = new ForwardingModel(model) {
            @Override
            protected void beforeStep(List<Segment> segments) {}

            @Override
            public int blocks() {
                return blocks; // the engine hands out only the first ones
            }
        };
        AtomicInteger preemptions = new AtomicInteger();
        EngineMetrics counting = new EngineMetrics() {
            @Override
            public void preempted() {
                preemptions.incrementAndGet();
            }
        };
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(options.tokens()).ignoreEos(true).build();
        int longest = Math.min(options.poolContext(), model.maxContext()) - options.tokens() - 1;
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            prompts.add(randomIds(model.config(),
                    Math.min(longest, 256 + (int) ((longest - 256) * Math.pow(i / Math.max(1.0, n - 1), 3)))));
        }
        try (Engine engine = new Engine(pool, tokenizer, engineOptions(device, n, false), counting)) {
            List<Callable<Generation>> calls = prompts.stream()
                    .<Callable<Generation>>map(prompt -> () -> engine.generate(new GenerationRequest(prompt, params))).toList();
            AtomicInteger peak = new AtomicInteger();
            long begin = System.nanoTime();
            List<Generation> replies = new ArrayList<>();
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<?> sampler = threads.submit(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        peak.accumulateAndGet(engine.stats().kvBlocksUsed(), Math::max);
                        Thread.sleep(5);
                    }
                    return null;
                });
                for (Future<Generation> f : threads.invokeAll(calls)) {
                    replies.add(f.get());
                }
                sampler.cancel(true);
            }
            double seconds = (System.nanoTime() - begin) / 1e9;
            sampleMemory(device);
            long generated = replies.stream().mapToLong(g -> g.done().completionTokens()).sum();
            return Map.of("chats", n, "pool_positions", (long) blocks * model.blockSize(),
                    "prompt_tokens", prompts.stream().mapToLong(p -> p.length).sum(),
                    "replies_completed", replies.stream().filter(g -> g.done().completionTokens() == options.tokens()).count(),
                    "tokens_per_s", round(generated / seconds), "preemptions", preemptions.get(),
                    "peak_block_use", round(peak.get() / (double) blocks));
        }
    }

    /**
     * The service's engine on this device for maxBatch slots (as many may wait): --prefill-chunk and --max-step-tokens
     * stand for RESIDENT_PREFILL_CHUNK and RESIDENT_MAX_STEP_TOKENS, unset their defaults.
     */
    private EngineOptions engineOptions(Device device, int maxBatch, boolean prefixCache) {
        int chunk = options.prefillChunk() > 0 ? options.prefillChunk() : EngineOptions.defaultPrefillChunk(device.isGpu());
        int stepTokens = options.maxStepTokens() > 0 ? options.maxStepTokens()
                : EngineOptions.defaultMaxStepTokens(device.isGpu(), maxBatch);
        return new EngineOptions(maxBatch, maxBatch, Duration.ofMinutes(10), chunk, stepTokens, prefixCache);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private void sampleMemory(Device device) {
        if (device.isGpu()) {
            peakDeviceBytes = Math.max(peakDeviceBytes, CudaUtils.getGpuMemory(device).getCommitted());
        }
    }

    /** Ids drawn away from the special tokens at either end of the vocabulary. */
    private int[] randomIds(ModelConfig c, int length) {
        return randomIds(c, length, random);
    }

    private static int[] randomIds(ModelConfig c, int length, Random random) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 100 + random.nextInt(Math.min(c.vocabSize(), 60_000) - 200);
        }
        return ids;
    }

    private static int max(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).max().orElseThrow();
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    /** The shapes by name, and a loaded model with its tokenizer. */
    static final class Shapes {

        static final List<String> NAMES = List.of("chatglm3-6b", "qwen2.5-0.5b", "qwen2.5-7b", "llama-3.1-8b");

        /** A model, the tokenizer the engine streams its text through, and where they run. */
        record Loaded(String name, CausalLM model, Tokenizer tokenizer, Device device, String deviceName, String dtype)
                implements AutoCloseable {
            @Override
            public void close() {
                tokenizer.close();
                model.close();
            }
        }

        static Loaded load(Options options, int slots, int context) throws IOException {
            if (options.model() != null) {
                CausalLM model = Paged.load(options.model(), options.device(), options.dtype(), slots, context);
                boolean ownTokenizer = Files.exists(options.model().resolve("tokenizer.json"))
                        || Files.exists(options.model().resolve("tokenizer.model"));
                // a test fixture has no tokenizer of its own: Qwen3's decodes any id of its small vocabulary
                return loaded(options.model().getFileName().toString(), model,
                        ownTokenizer ? Tokenizers.load(options.model()) : Tokenizers.load(DemoModel.tokenizerDirectory()), options);
            }
            if (!NAMES.contains(options.shape())) {
                throw new IllegalArgumentException("unknown shape " + options.shape() + "; known: " + NAMES);
            }
            Path dir = Files.createTempDirectory("resident-bench");
            try (InputStream config = Shapes.class.getResourceAsStream(options.shape() + ".json")) {
                Files.copy(config, dir.resolve("config.json"));
            }
            ModelConfig config = ModelLoader.readConfig(dir);
            CausalLM model = Paged.random(config, 1, options.device(), options.dtype(), slots, context);
            return loaded(options.shape() + " (random weights)", model, Tokenizers.load(DemoModel.tokenizerDirectory()), options);
        }

        private static Loaded loaded(String name, CausalLM model, Tokenizer tokenizer, Options options) {
            Device device = ModelLoader.device(options.device());
            String deviceName = device.isGpu()
                    ? "cuda:" + device.getDeviceId() + " (compute capability " + CudaUtils.getComputeCapability(device.getDeviceId()) + ")"
                    : "cpu (" + Runtime.getRuntime().availableProcessors() + " threads)";
            String dtype = ModelLoader.dtype(options.dtype(), device, model.config().dtype()).name().toLowerCase(Locale.ROOT);
            return new Loaded(name, model, tokenizer, device, deviceName, dtype);
        }
    }
}
