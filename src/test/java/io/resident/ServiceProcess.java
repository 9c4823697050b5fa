package io.resident;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged service started as an operator starts it (java -jar), on a free port, its log in a file. */
public record ServiceProcess(Process process, int port, Path log) implements AutoCloseable {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    /** How long startup may take: the README promises readiness within a minute. */
    public static final Duration READY_WITHIN = Duration.ofSeconds(60);

    /**
     * Starts the jar with the given environment on top of this one's, less its RESIDENT_* and HF_* variables
     * (HF_HOME points at an empty folder in {@code temp}, and the service listens on a free port, unless env says otherwise).
     */
    public static ServiceProcess start(Map<String, String> env, Path temp) throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: the integration tests run after ./mvnw package");
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = temp.resolve("service-" + port + ".log");
        String java = ProcessHandle.current().info().command().orElse("java");
        // DJL offline: libtorch and its JNI library must come from the app's own jars, never from a download
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx1g", "-Dai.djl.offline=true", "-jar", JAR.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(key -> key.startsWith("RESIDENT_") || key.startsWith("HF_"));
        environment.put("HF_HOME", temp.resolve("empty-hf-home").toString());
        environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        environment.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        environment.putAll(env);
        return new ServiceProcess(builder.start(), port, log);
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** "status body" of a GET. */
    public String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    /** Waits for readiness; returns the first answer the readiness probe gave. */
    public String awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        String first = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the service exited with " + process.exitValue() + ":\n" + output());
            }
            try {
                String answer = get("/q/health/ready");
                first = first == null ? answer : first;
                if (answer.startsWith("200 ")) {
                    return first;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not ready within " + READY_WITHIN + ":\n" + output());
    }

    public int awaitExit() throws InterruptedException {
        boolean exited = process.waitFor(READY_WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertTrue(exited, "the service did not exit within " + READY_WITHIN + ":\n" + output());
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        assertFalse(process.isAlive());
    }
}
