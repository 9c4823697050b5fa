package io.resident.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Load on a running service over HTTP, as vLLM's serving benchmark puts it: streaming chat completions (server-sent
 * events with the usage in a last chunk), at most N at once, sent all at once or at a Poisson rate, for each
 * concurrency of a sweep. Reports aggregate output tokens/s, time to first token, inter-token latency (the gaps
 * between chunks), time per output token and request latency (mean, p50, p90, p99), and failures, and where the
 * engine thread's time went during each level (from the service's /q/metrics before and after it); prints a table
 * and writes the figures as JSON.
 *
 * <pre>
 * java -cp ... io.resident.bench.LoadBenchmark --url http://localhost:8080 --concurrency 1,8,32,64 --json load.json
 * ./mvnw -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.resident.bench.LoadBenchmark \
 *     -Dexec.args="--concurrency 1,2,4,8 --max-tokens 32"
 * </pre>
 *
 * Options and defaults: --url http://localhost:8080, --api-key (else RESIDENT_API_KEY, else none), --model default,
 * --concurrency 1,8,32,64, --rounds 4 (requests per level: rounds x concurrency), --prompt-tokens 128 (each prompt's
 * exact length through the chat template, counted by the service's POST /tokenize), --max-tokens 128 with ignore_eos
 * (every reply exactly that long), --temperature 0 (greedy), --top-p 1, --rate inf (requests/s, Poisson arrivals; inf
 * sends them all at once), --seed 0 (arrivals), --warmup true (one untimed round of short replies per level),
 * --ready-timeout 600 (seconds to wait for the service's readiness), --label resident, --json FILE.
 * Every prompt starts with the run's start time and its request's number, so no two share a prefix-cache block.
 */
public final class LoadBenchmark {

    /** One run's settings, from the command line. */
    record Options(URI url, String apiKey, String model, List<Integer> concurrency, int rounds, int promptTokens,
            int maxTokens, double temperature, double topP, double rate, long seed, boolean warmup, int readyTimeoutS,
            String label, Path json) {

        static Options parse(String[] args) {
            Map<String, String> a = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 == args.length) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
                }
                a.put(args[i].substring(2), args[i + 1]);
            }
            Options options = new Options(URI.create(a.getOrDefault("url", "http://localhost:8080")),
                    a.getOrDefault("api-key", System.getenv("RESIDENT_API_KEY")), a.getOrDefault("model", "default"),
                    Arrays.stream(a.getOrDefault("concurrency", "1,8,32,64").split(",")).map(String::strip).map(Integer::valueOf).toList(),
                    Integer.parseInt(a.getOrDefault("rounds", "4")), Integer.parseInt(a.getOrDefault("prompt-tokens", "128")),
                    Integer.parseInt(a.getOrDefault("max-tokens", "128")), Double.parseDouble(a.getOrDefault("temperature", "0")),
                    Double.parseDouble(a.getOrDefault("top-p", "1")), rate(a.getOrDefault("rate", "inf")),
                    Long.parseLong(a.getOrDefault("seed", "0")), Boolean.parseBoolean(a.getOrDefault("warmup", "true")),
                    Integer.parseInt(a.getOrDefault("ready-timeout", "600")), a.getOrDefault("label", "resident"),
                    a.containsKey("json") ? Path.of(a.get("json")) : null);
            a.keySet().removeAll(List.of("url", "api-key", "model", "concurrency", "rounds", "prompt-tokens", "max-tokens",
                    "temperature", "top-p", "rate", "seed", "warmup", "ready-timeout", "label", "json"));
            if (!a.isEmpty()) {
                throw new IllegalArgumentException("unknown options " + a.keySet());
            }
            return options;
        }

        private static double rate(String value) {
            return value.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(value);
        }
    }

    /**
     * One level's replies and its span, from the first request sent to the last reply's end, and where the engine
     * thread's time went meanwhile (null where the service exports no such metrics).
     */
    record Level(int concurrency, List<StreamedReply> replies, long startNanos, long endNanos, EngineTime engineThread) {}

    /** The engine thread's model steps and time by phase (by the phase's name), as the service's metrics count them. */
    record EngineTime(long steps, Map<String, Long> nanosByPhase) {

        /** What happened between an earlier reading and this one. */
        EngineTime since(EngineTime earlier) {
            Map<String, Long> diff = new LinkedHashMap<>();
            nanosByPhase.forEach((phase, nanos) -> diff.put(phase, nanos - earlier.nanosByPhase.getOrDefault(phase, 0L)));
            return new EngineTime(steps - earlier.steps, diff);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PHASE_SECONDS =
            Pattern.compile("resident_engine_thread_seconds_total\\{.*phase=\"([a-z]+)\".*} (\\S+)");
    private static final Pattern STEPS = Pattern.compile("resident_engine_steps_total(?:\\{.*})? (\\S+)");
    /** Tokens of each warm-up reply: enough to run the level's decode batch (and capture its graph) once. */
    private static final int WARMUP_TOKENS = 8;
    /** Tries at a prompt of the exact length after the first; the first usually lands. */
    private static final int PROMPT_TRIES = 4;
    /** Words that are one token each for most tokenizers; the first that is for the served one fills the prompts. */
    private static final List<String> FILLERS = List.of(" hello", " the", " a", " x", "a", "x");

    private final Options options;
    private String filler;
    /** Prompts made so far: each prompt's number, so that no two of a run share a prefix-cache block. */
    private int prompted;
    /** Starts every prompt, so that no two runs against one service share one either. */
    private final String runTag = Long.toString(System.currentTimeMillis(), 36);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    LoadBenchmark(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        LoadBenchmark benchmark = new LoadBenchmark(options);
        benchmark.awaitReady();
        Map<String, Object> report = benchmark.run();
        if (options.json() != null) {
            Files.writeString(options.json(), JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        }
        System.out.println(table(report));
    }

    /** The whole sweep: settings, the served model's card and one summary per concurrency. */
    Map<String, Object> run() throws Exception {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("label", options.label());
        report.put("date", java.time.Instant.now().toString());
        report.put("url", options.url().toString());
        report.put("served_model", JSON.readTree(get("/v1/models")).path("data").path(0));
        report.put("prompt_tokens", options.promptTokens());
        report.put("max_tokens", options.maxTokens());
        report.put("ignore_eos", true);
        report.put("temperature", options.temperature());
        report.put("top_p", options.topP());
        report.put("request_rate", Double.isInfinite(options.rate()) ? "inf" : options.rate());
        List<Map<String, Object>> levels = new ArrayList<>();
        for (int concurrency : options.concurrency()) {
            Level level = level(concurrency);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("concurrency", concurrency);
            summary.putAll(LoadStats.summarize(level.replies(), level.startNanos(), level.endNanos()));
            if (level.engineThread() != null) {
                summary.put("engine_thread", EngineSplit.of(level.engineThread().steps(), level.engineThread().nanosByPhase()));
            }
            levels.add(summary);
        }
        report.put("levels", levels);
        return report;
    }

    /** rounds x concurrency requests, at most concurrency at once, after an untimed warm-up round. */
    Level level(int concurrency) throws Exception {
        int requests = options.rounds() * concurrency;
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < requests + (options.warmup() ? concurrency : 0); i++) {
            prompts.add(prompt(prompted++));
        }
        if (options.warmup()) {
            send(prompts.subList(requests, prompts.size()), concurrency, Double.POSITIVE_INFINITY, WARMUP_TOKENS);
        }
        EngineTime before = engineTime();
        Level level = send(prompts.subList(0, requests), concurrency, options.rate(), options.maxTokens());
        EngineTime after = engineTime();
        return before == null || after == null ? level : new Level(level.concurrency(), level.replies(), level.startNanos(),
                level.endNanos(), after.since(before));
    }

    /**
     * The engine thread's steps and time by phase as the service's /q/metrics has them (resident_engine_steps_total,
     * resident_engine_thread_seconds_total by phase); null where it has none.
     */
    EngineTime engineTime() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request("/q/metrics").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return null;
        }
        Map<String, Long> nanos = new LinkedHashMap<>();
        long steps = -1;
        for (String line : response.body().split("\n")) {
            Matcher phase = PHASE_SECONDS.matcher(line);
            Matcher step = STEPS.matcher(line);
            if (phase.matches()) {
                nanos.put(phase.group(1), (long) (Double.parseDouble(phase.group(2)) * 1e9));
            } else if (step.matches()) {
                steps = (long) Double.parseDouble(step.group(1));
            }
        }
        return nanos.isEmpty() || steps < 0 ? null : new EngineTime(steps, nanos);
    }

    private Level send(List<String> prompts, int concurrency, double rate, int maxTokens) throws Exception {
        Semaphore slots = new Semaphore(concurrency);
        long[] arrivals = arrivals(prompts.size(), rate, new Random(options.seed()));
        long start = System.nanoTime();
        List<Future<StreamedReply>> futures = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < prompts.size(); i++) {
                String body = body(prompts.get(i), maxTokens);
                long arrival = start + arrivals[i];
                futures.add(clients.submit(() -> {
                    long wait = arrival - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(Duration.ofNanos(wait));
                    }
                    slots.acquire();
                    try {
                        return stream(body);
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        List<StreamedReply> replies = new ArrayList<>();
        for (Future<StreamedReply> f : futures) {
            replies.add(f.get());
        }
        long end = replies.stream().mapToLong(StreamedReply::endNanos).max().orElse(start);
        return new Level(concurrency, replies, start, end, null);
    }

    /** Each request's send time after the first, in ns: exponential gaps at the rate (Poisson arrivals), or all at 0. */
    static long[] arrivals(int count, double rate, Random random) {
        long[] at = new long[count];
        double t = 0;
        for (int i = 1; i < count && !Double.isInfinite(rate); i++) {
            t += -Math.log(1 - random.nextDouble()) / rate;
            at[i] = (long) (t * 1e9);
        }
        return at;
    }

    /** One streamed chat completion, each line timed as it arrives. */
    private StreamedReply stream(String body) {
        long start = System.nanoTime();
        StreamedReply.Reader reader = new StreamedReply.Reader(start);
        try {
            HttpResponse<Stream<String>> response = http.send(request("/v1/chat/completions")
                    .header("Accept", "text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = response.body()) {
                if (response.statusCode() != 200) {
                    reader.fail("HTTP " + response.statusCode() + ": " + lines.collect(Collectors.joining(" ")), System.nanoTime());
                } else {
                    for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                        String line = it.next();
                        reader.line(line, System.nanoTime());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            reader.fail(e.toString(), System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reader.fail("interrupted", System.nanoTime());
        }
        return reader.reply(System.nanoTime());
    }

    private String body(String prompt, int maxTokens) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", options.model());
        body.put("messages", List.of(Map.of("role", "user", "content", prompt)));
        body.put("max_tokens", maxTokens);
        body.put("ignore_eos", true);
        body.put("temperature", options.temperature());
        body.put("top_p", options.topP());
        body.put("stream", true);
        body.put("stream_options", Map.of("include_usage", true));
        return JSON.writeValueAsString(body);
    }

    /**
     * Request i's prompt: the run's tag and its number, then a filler word repeated to make the chat prompt exactly --prompt-tokens long
     * as the service's tokenizer counts it; the closest length when no count of fillers gives it exactly.
     */
    String prompt(int index) throws IOException, InterruptedException {
        int target = options.promptTokens();
        String head = runTag + " " + index + ":";
        int bare = count(head);
        if (filler == null) {
            filler = FILLERS.stream().filter(f -> count(head + f.repeat(10)) == bare + 10).findFirst().orElse(FILLERS.getFirst());
        }
        int fillers = Math.max(0, target - bare);
        String best = head;
        int bestMiss = Integer.MAX_VALUE;
        for (int attempt = 0; attempt < PROMPT_TRIES; attempt++) {
            String text = head + filler.repeat(fillers);
            int miss = count(text) - target;
            if (Math.abs(miss) < bestMiss) {
                best = text;
                bestMiss = Math.abs(miss);
            }
            if (miss == 0 || fillers - miss < 0) {
                break;
            }
            fillers -= miss;
        }
        return best;
    }

    /** The chat prompt's tokens for one user message, by the service's POST /tokenize. */
    private int count(String message) {
        try {
            return JSON.readTree(post("/tokenize", JSON.writeValueAsString(Map.of("model", options.model(),
                    "messages", List.of(Map.of("role", "user", "content", message)))))).path("count").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while tokenizing", e);
        }
    }

    /** Polls the readiness probe, which answers 200 once the model is loaded and warm. */
    void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(options.readyTimeoutS()).toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(options.url().resolve("/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + ready.statusCode();
            } catch (ConnectException e) {
                last = "connection refused";
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(options.url() + " was not ready within " + options.readyTimeoutS() + " s: " + last);
    }

    private String get(String path) throws IOException, InterruptedException {
        return checked(http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString()), path);
    }

    private String post(String path, String body) throws IOException, InterruptedException {
        return checked(http.send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()), path);
    }

    private static String checked(HttpResponse<String> response, String path) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException(path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(options.url().resolve(path)).header("Content-Type", "application/json");
        return options.apiKey() == null ? b : b.header("Authorization", "Bearer " + options.apiKey());
    }

    /** The report as a Markdown table, ready for docs/benchmarks.md. */
    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> report) {
        JsonNode model = (JsonNode) report.get("served_model");
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%s: %s (%s, %s on %s) at %s; prompts of %s tokens, replies of %s (ignore_eos), temperature %s, top_p %s,"
                        + " request rate %s%n%n", report.get("label"), model.path("id").asText(), model.path("family").asText(),
                model.path("dtype").asText(), model.path("device").asText(), report.get("url"), report.get("prompt_tokens"),
                report.get("max_tokens"), report.get("temperature"), report.get("top_p"), report.get("request_rate")));
        out.append("| concurrency | requests | failed | output tokens/s | TTFT ms p50 / p90 / p99 | ITL ms p50 / p90 / p99"
                + " | TPOT ms p50 | latency ms p50 |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Map<String, Object> level : (List<Map<String, Object>>) report.get("levels")) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", level.get("concurrency"),
                    level.get("requests"), level.get("failed"), level.get("output_tokens_per_s"),
                    percentiles((Map<String, Object>) level.get("ttft_ms")), percentiles((Map<String, Object>) level.get("itl_ms")),
                    ((Map<String, Object>) level.get("tpot_ms")).get("p50"), ((Map<String, Object>) level.get("latency_ms")).get("p50")));
        }
        for (Map<String, Object> level : (List<Map<String, Object>>) report.get("levels")) {
            if (level.get("engine_thread") != null) {
                out.append(String.format("%nconcurrency %s, the engine thread: %s", level.get("concurrency"),
                        EngineSplit.describe((Map<String, Object>) level.get("engine_thread"))));
            }
        }
        for (Map<String, Object> level : (List<Map<String, Object>>) report.get("levels")) {
            if (level.get("errors") != null) {
                out.append(String.format("%nconcurrency %s, errors: %s", level.get("concurrency"), level.get("errors")));
            }
        }
        return out.toString();
    }

    private static String percentiles(Map<String, Object> d) {
        return d.get("p50") + " / " + d.get("p90") + " / " + d.get("p99");
    }
}
