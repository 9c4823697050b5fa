package io.resident.bench;

import io.resident.attack.RawClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every attack of the hardening issue at once, for two minutes, against the packaged service serving the demo model
 * with its default settings, while 20 ordinary WebSocket chats run: prints the chats' latency, the liveness probe's
 * worst answer time and the service's RSS before and after. Traffic goes to the loopback only.
 *
 * <pre>
 * ./mvnw -B -ntp -DskipTests package
 * java -cp target/test-classes io.resident.bench.SoakBenchmark [seconds]
 * </pre>
 */
public final class SoakBenchmark {

    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    private static final int CHATS = 20;
    private static final String HOST = "127.0.0.1";

    private final int port;
    private final long pid;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Long> turnMillis = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong turnErrors = new AtomicLong();
    private final AtomicLong livenessWorstMillis = new AtomicLong();
    private final AtomicLong livenessFailures = new AtomicLong();
    private final Map<String, AtomicLong> attacks = new ConcurrentHashMap<>();
    private volatile boolean attacking = true;
    private volatile boolean running = true;

    private SoakBenchmark(int port, long pid) {
        this.port = port;
        this.pid = pid;
    }

    public static void main(String[] args) throws Exception {
        Duration soak = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 120);
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = Files.createTempFile("resident-soak", ".log");
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx1g",
                "-jar", JAR.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(key -> key.startsWith("RESIDENT_") || key.startsWith("HF_"));
        builder.environment().putAll(Map.of("QUARKUS_HTTP_PORT", Integer.toString(port), "QUARKUS_HTTP_HOST", HOST,
                "HF_HUB_OFFLINE", "1", "HF_HOME", Files.createTempDirectory("resident-soak-hf").toString()));
        Process service = builder.start();
        try {
            new SoakBenchmark(port, service.pid()).run(soak);
        } finally {
            service.destroy();
            service.waitFor(60, TimeUnit.SECONDS);
            System.out.println("service exit status after SIGTERM: " + service.exitValue() + " (log: " + log + ")");
        }
    }

    private void run(Duration soak) throws Exception {
        awaitReady();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<WebSocket> chats = new ArrayList<>();
            for (int i = 0; i < CHATS; i++) {
                chats.add(chatClient(threads, i));
            }
            Thread.sleep(10_000); // every chat past its first turns: the baseline is the service at work
            long rssBefore = rss();
            turnMillis.clear();
            threads.execute(this::probeLiveness);
            List<Runnable> attackers = List.of(this::compressionBombs, this::stopStrings, this::queueDepartures,
                    this::sessionChurn, this::crossOrigin, this::halfOpen, this::misbehavingHttp);
            for (Runnable attacker : attackers) {
                threads.execute(() -> repeat(attacker));
            }
            long start = System.nanoTime();
            Thread.sleep(soak.toMillis());
            attacking = false;
            double seconds = (System.nanoTime() - start) / 1e9;
            List<Long> turns;
            synchronized (turnMillis) {
                turns = new ArrayList<>(turnMillis);
            }
            Thread.sleep(15_000); // attackers' connections closed, the last bodies collected
            long rssAfter = rss();
            running = false;
            chats.forEach(chat -> chat.abort());
            report(seconds, turns, rssBefore, rssAfter);
        }
    }

    private void report(double seconds, List<Long> turns, long rssBefore, long rssAfter) {
        Collections.sort(turns);
        System.out.printf("%n%.0f s of every attack at once, %d ordinary chats (max_tokens 16, greedy) over the WebSocket%n%n",
                seconds, CHATS);
        System.out.println("| measure | value |\n| --- | --- |");
        System.out.printf("| ordinary chat turns completed | %d (%d refused or failed) |%n", turns.size(), turnErrors.get());
        System.out.printf("| ordinary chat turn latency p50 / p99 / max, ms | %d / %d / %d |%n", percentile(turns, 50),
                percentile(turns, 99), turns.isEmpty() ? 0 : turns.getLast());
        System.out.printf("| liveness probe worst answer, ms | %d (%d failed) |%n", livenessWorstMillis.get(),
                livenessFailures.get());
        System.out.printf("| service RSS before / after, MiB | %d / %d |%n", rssBefore >> 10, rssAfter >> 10);
        System.out.println();
        System.out.println("| attack | attempts |\n| --- | --- |");
        new TreeMap<>(attacks).forEach((name, count) -> System.out.printf("| %s | %d |%n", name, count.get()));
    }

    private static long percentile(List<Long> sorted, int p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    /** One ordinary user: a chat turn, its done frame, the next turn, for as long as the benchmark runs. */
    private WebSocket chatClient(ExecutorService threads, int user) throws Exception {
        StringBuilder partial = new StringBuilder();
        CompletableFuture<?>[] turnEnd = {new CompletableFuture<String>()};
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String frame = partial.toString();
                    partial.setLength(0);
                    if (frame.contains("\"type\":\"done\"") || frame.contains("\"type\":\"error\"")) {
                        ((CompletableFuture<String>) turnEnd[0]).complete(frame);
                    }
                }
                socket.request(1);
                return null;
            }
        };
        WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create("ws://" + HOST + ":" + port + "/ws/chat"), listener)
                .get(30, TimeUnit.SECONDS);
        threads.execute(() -> {
            for (int turn = 0; running; turn++) {
                CompletableFuture<String> end = new CompletableFuture<>();
                turnEnd[0] = end;
                long start = System.nanoTime();
                try {
                    socket.sendText("{\"type\":\"chat\",\"content\":\"User " + user + ", turn " + turn
                            + ": tell me something.\",\"options\":{\"max_tokens\":16,\"temperature\":0}}", true).get();
                    String frame = end.get(120, TimeUnit.SECONDS);
                    if (frame.contains("\"type\":\"done\"")) {
                        turnMillis.add((System.nanoTime() - start) / 1_000_000);
                    } else {
                        turnErrors.incrementAndGet();
                        Thread.sleep(200);
                    }
                } catch (Exception e) {
                    if (running) {
                        turnErrors.incrementAndGet();
                    }
                    return;
                }
            }
        });
        return socket;
    }

    private void probeLiveness() {
        HttpRequest live = HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + port + "/q/health/live"))
                .timeout(Duration.ofSeconds(60)).build();
        while (attacking) {
            long start = System.nanoTime();
            try {
                if (http.send(live, HttpResponse.BodyHandlers.ofString()).statusCode() != 200) {
                    livenessFailures.incrementAndGet();
                }
            } catch (Exception e) {
                livenessFailures.incrementAndGet();
            }
            livenessWorstMillis.accumulateAndGet((System.nanoTime() - start) / 1_000_000, Math::max);
            sleep(100);
        }
    }

    /** Runs an attack over and over, each round from scratch, until the soak ends; its failures are its business. */
    private void repeat(Runnable attack) {
        while (attacking) {
            try {
                attack.run();
            } catch (RuntimeException e) {
                sleep(10);
            }
        }
    }

    private void count(String attack) {
        attacks.computeIfAbsent(attack, a -> new AtomicLong()).incrementAndGet();
    }

    private static final byte[] BOMB = RawClient.permessageDeflate(200 << 20);

    private void compressionBombs() {
        try (RawClient client = RawClient.upgrade(HOST, port, "127.0.0.10", "/ws/chat",
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"), new StringBuilder())) {
            client.readFrame();
            count("1 compressed 200 MB frame");
            client.sendFrame(RawClient.TEXT, true, BOMB);
            client.closedByServer(Duration.ofSeconds(30));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static final String STOPS = stops();

    private static String stops() {
        StringBuilder body = new StringBuilder("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[");
        for (int i = 0; i < 950_000; i++) {
            body.append(i == 0 ? "" : ",").append("\"s").append(i).append('"');
        }
        return body.append("]}").toString();
    }

    private void stopStrings() {
        try (RawClient client = RawClient.connect(HOST, port, "127.0.0.11")) {
            count("2 request with 950,000 stop strings");
            client.post(HOST, "/v1/chat/completions", "application/json", STOPS);
            client.readHead();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private void queueDepartures() {
        List<RawClient> queued = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                RawClient client = RawClient.connect(HOST, port, "127.0.0.12");
                queued.add(client);
                client.post(HOST, "/v1/chat/completions", "application/json", "{\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"Tell me a long story.\"}],\"max_tokens\":4000,\"stream\":true}");
                count("3 queued request that hangs up");
            }
            sleep(500);
        } catch (IOException e) {
            throw new RuntimeException(e);
        } finally {
            queued.forEach(SoakBenchmark::closeQuietly);
        }
    }

    private void sessionChurn() {
        try (RawClient client = RawClient.upgrade(HOST, port, "127.0.0.13", "/ws/chat", Map.of(), new StringBuilder())) {
            count("4 session opened and dropped");
            client.readFrame();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private void crossOrigin() {
        try (RawClient socket = RawClient.upgrade(HOST, port, "127.0.0.14", "/ws/chat", Map.of("Origin", "http://evil.example"),
                new StringBuilder());
             RawClient post = RawClient.connect(HOST, port, "127.0.0.14")) {
            count("5 cross-origin handshake and text/plain POST");
            post.post(HOST, "/v1/chat/completions", "text/plain", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            post.readHead();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    /** 1,000 connections that send nothing or half a header, opened again as the server closes them. */
    private void halfOpen() {
        List<RawClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 1_000 && attacking; i++) {
                RawClient client = RawClient.connect(HOST, port, "127.0.0.15");
                held.add(client);
                if (i % 2 == 0) {
                    client.write("GET /q/health/live HTTP/1.1\r\nHost: loc");
                }
                count("6 half-open or stalled connection");
            }
            while (attacking) {
                sleep(1_000);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        } finally {
            held.forEach(SoakBenchmark::closeQuietly);
        }
    }

    /** A chunked upload past the body limit, a reset WebSocket, an upload abandoned halfway. */
    private void misbehavingHttp() {
        try (RawClient upload = RawClient.connect(HOST, port, "127.0.0.16")) {
            count("7 chunked upload past the limit");
            upload.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = ("100000\r\n" + " ".repeat(0x100000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 300; i++) {
                upload.write(chunk);
            }
        } catch (IOException e) {
            // closed by the server after its 413: the point
        }
        try {
            RawClient socket = RawClient.upgrade(HOST, port, "127.0.0.16", "/ws/chat", Map.of(), new StringBuilder());
            count("7 WebSocket reset");
            socket.reset();
            RawClient abandoned = RawClient.connect(HOST, port, "127.0.0.16");
            count("7 upload abandoned");
            abandoned.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"prompt\":");
            abandoned.reset();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private void awaitReady() throws Exception {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the service was not ready within 3 minutes");
    }

    /** The service's resident set, in KiB. */
    private long rss() throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
    }

    private static void closeQuietly(RawClient client) {
        try {
            client.close();
        } catch (IOException e) {
            // gone already
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
