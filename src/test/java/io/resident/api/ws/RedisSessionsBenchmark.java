package io.resident.api.ws;

import io.resident.RedisServer;
import io.resident.ServiceProcess;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Chat sessions over two packaged instances sharing one redis-server, on the CPU demo model: every session is a
 * client that opens it, then takes each turn on the other instance than the last (a resume through Redis every
 * turn). Prints turns per second, the client's turn latency, and the time each turn spent in the session store,
 * read from both instances' resident_session_store_duration_seconds histograms. --concurrency bounds the sessions that
 * converse at once (all of them by default).
 *
 * <pre>
 * ./mvnw -q package -DskipTests
 * ./mvnw -q exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.resident.api.ws.RedisSessionsBenchmark \
 *     -Dexec.args="--sessions 200 --turns 5 --max-tokens 8 --concurrency 200"
 * </pre>
 */
public final class RedisSessionsBenchmark {

    private static final String STORE_HISTOGRAM = "resident_session_store_duration_seconds";

    private RedisSessionsBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>(Map.of("--sessions", "200", "--turns", "5", "--max-tokens", "8",
                "--concurrency", "200"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        int sessions = Integer.parseInt(options.get("--sessions"));
        int turns = Integer.parseInt(options.get("--turns"));
        int maxTokens = Integer.parseInt(options.get("--max-tokens"));
        // sessions conversing at once; the others wait their turn (a turn queued for over a minute fails the run)
        Semaphore conversing = new Semaphore(Integer.parseInt(options.get("--concurrency")));
        Path temp = Files.createTempDirectory("resident-redis-bench");
        Vertx vertx = Vertx.vertx();
        try (RedisServer redis = RedisServer.start(temp.resolve("redis"))) {
            // every simulated user comes from the loopback address, so the per-address limits are raised to the load
            Map<String, String> env = Map.ofEntries(Map.entry("RESIDENT_SESSION_STORE", "redis"),
                    Map.entry("QUARKUS_REDIS_HOSTS", redis.hosts()), Map.entry("HF_HUB_OFFLINE", "1"),
                    Map.entry("RESIDENT_DEVICE", "cpu"), Map.entry("RESIDENT_MAX_WAITING", "1000"),
                    Map.entry("RESIDENT_MAX_WAIT", "10m"), Map.entry("RESIDENT_IDLE_TIMEOUT", "11m"), Map.entry("RESIDENT_MAX_CONNECTIONS_PER_CLIENT", "1000"),
                    Map.entry("RESIDENT_MAX_SESSIONS_PER_CLIENT", "1000"),
                    Map.entry("RESIDENT_NEW_SESSIONS_PER_CLIENT_PER_MINUTE", "100000"),
                    Map.entry("RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT", "2000"));
            try (ServiceProcess a = ServiceProcess.start(env, temp); ServiceProcess b = started(env, temp, a)) {
                b.awaitReady();
                List<URI> instances = List.of(endpoint(a), endpoint(b));
                List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
                long started = System.nanoTime();
                try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<Integer>> done = new ArrayList<>();
                    for (int s = 0; s < sessions; s++) {
                        int session = s;
                        done.add(clients.submit(() -> {
                            conversing.acquire();
                            try {
                                return converse(vertx, instances, session, turns, maxTokens, latencies);
                            } finally {
                                conversing.release();
                            }
                        }));
                    }
                    for (Future<Integer> memory : done) {
                        if (memory.get() != 2 * turns) {
                            throw new AssertionError("a session remembers " + memory.get() + " messages, not " + 2 * turns);
                        }
                    }
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                Map<Double, Double> buckets = new TreeMap<>();
                double[] sumCount = new double[2];
                for (ServiceProcess instance : List.of(a, b)) {
                    scrape(instance.get("/q/metrics"), buckets, sumCount);
                }
                List<Long> sorted = new ArrayList<>(latencies);
                Collections.sort(sorted);
                System.out.printf(Locale.ROOT, "%d sessions x %d turns (max_tokens %d) over 2 instances and Redis %s%n",
                        sessions, turns, maxTokens, redis.command("INFO", "server").lines()
                                .filter(l -> l.startsWith("redis_version:")).findFirst().orElse("?"));
                System.out.printf(Locale.ROOT, "| turns | seconds | turns/s | turn p50, ms | turn p99, ms "
                        + "| session store per turn: mean, ms | p50, ms (bucket bound) | p99, ms (bucket bound) |%n");
                System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.0f | %.0f | %.3f | %.3f | %.3f |%n",
                        sorted.size(), seconds, sorted.size() / seconds, percentile(sorted, 0.5) / 1e6,
                        percentile(sorted, 0.99) / 1e6, 1000 * sumCount[0] / sumCount[1],
                        1000 * bucketPercentile(buckets, 0.5), 1000 * bucketPercentile(buckets, 0.99));
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /** Starts the second instance once the first is ready: two loading at once may outlast the wait on a busy machine. */
    private static ServiceProcess started(Map<String, String> env, Path temp, ServiceProcess first) throws Exception {
        first.awaitReady();
        return ServiceProcess.start(env, temp);
    }

    /** One session's turns, each on the other instance than the last; returns the messages it remembers at the end. */
    private static int converse(Vertx vertx, List<URI> instances, int session, int turns, int maxTokens, List<Long> latencies) {
        String id = null;
        int memory = 0;
        for (int turn = 0; turn < turns; turn++) {
            long start = System.nanoTime();
            try (ChatClient chat = ChatClient.open(vertx, instances.get((session + turn) % 2), id == null ? null : "session=" + id)) {
                id = chat.sessionId();
                ChatClient.Reply reply = chat.chat("Turn " + turn + " of session " + session, ChatClient.options("max_tokens", maxTokens));
                if (!reply.type().equals("done")) {
                    throw new AssertionError("session " + session + ", turn " + turn + ": " + reply.end());
                }
                memory = reply.end().get("memoryMessages").asInt();
            }
            latencies.add(System.nanoTime() - start);
        }
        return memory;
    }

    private static URI endpoint(ServiceProcess instance) {
        return URI.create("ws://127.0.0.1:" + instance.port() + "/ws/chat");
    }

    /** Adds an instance's cumulative store-time buckets (by upper bound, seconds), sum and count. */
    private static void scrape(String metrics, Map<Double, Double> buckets, double[] sumCount) {
        for (String line : metrics.split("\n")) {
            double value = line.startsWith(STORE_HISTOGRAM) ? Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) : 0;
            if (line.startsWith(STORE_HISTOGRAM + "_bucket")) {
                String le = line.substring(line.indexOf("le=\"") + 4, line.indexOf('"', line.indexOf("le=\"") + 4));
                buckets.merge(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), value, Double::sum);
            } else if (line.startsWith(STORE_HISTOGRAM + "_sum")) {
                sumCount[0] += value;
            } else if (line.startsWith(STORE_HISTOGRAM + "_count")) {
                sumCount[1] += value;
            }
        }
    }

    /** The upper bound of the bucket the quantile falls in. */
    private static double bucketPercentile(Map<Double, Double> cumulative, double quantile) {
        double total = cumulative.get(Double.POSITIVE_INFINITY);
        return cumulative.entrySet().stream().filter(e -> e.getValue() >= quantile * total).findFirst().orElseThrow().getKey();
    }

    private static double percentile(List<Long> sorted, double quantile) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(quantile * sorted.size()) - 1));
    }
}
