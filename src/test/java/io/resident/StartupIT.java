package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.Fixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts the packaged service as an operator would (java -jar) and checks how it comes up, or why it refuses to. */
class StartupIT {

    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    private static final Duration READY_WITHIN = Duration.ofSeconds(60);

    @TempDir
    Path temp;

    @Test
    void demoModelWhenNothingIsConfigured() throws Exception {
        try (Service service = start(Map.of("HF_HOME", temp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1"))) {
            service.awaitReady();
            assertTrue(service.output().contains("DEMO MODEL"), service.output());
            assertTrue(service.get("/q/health/ready").contains("resident-demo"));
        }
    }

    @Test
    void chatGlmFixtureDirectory() throws Exception {
        Path fixture = Fixtures.shared("chatglm3-6b-tiny");
        try (Service service = start(Map.of("RESIDENT_MODEL", fixture.toString()))) {
            service.awaitReady();
            assertTrue(service.get("/q/health/ready").contains("\"id\": \"chatglm3-6b-tiny\""), service.output());
        }
    }

    @Test
    void sigtermDrainsTheEngineThenStops() throws Exception {
        Path fixture = Fixtures.shared("chatglm3-6b-tiny");
        try (var service = start(Map.of("RESIDENT_MODEL", fixture.toString(), "RESIDENT_DRAIN_TIMEOUT", "7s"))) {
            service.awaitReady();
            service.process().destroy(); // SIGTERM
            assertTrue(service.process().waitFor(30, TimeUnit.SECONDS), "no exit after SIGTERM:\n" + service.output());
            String log = service.output();
            int draining = log.indexOf("Draining: up to PT7S for 0 running replies");
            int stopped = log.indexOf("resident stopped in");
            assertTrue(draining >= 0 && log.indexOf("Drained: every reply finished") > draining && stopped > draining, log);
            assertEquals(143, service.process().exitValue(), "the exit status of a SIGTERM shutdown");
        }
    }

    @Test
    void kvCacheThatCannotFitIsRefused() throws Exception {
        // 100,000 slots of 8,192 positions at 512 bytes each: 390 GiB, more than any test machine has free
        assertRefused(Map.of("RESIDENT_MODEL", Fixtures.shared("chatglm3-6b-tiny").toString(),
                "RESIDENT_MAX_BATCH", "100000", "RESIDENT_MAX_CONTEXT", "8192"),
                "the model does not fit: weights 0.00 GiB + KV cache 100000 slots x 8192 positions (390.63 GiB)");
    }

    @Test
    void missingConfigJson() throws Exception {
        Path dir = brokenCopy("no-config");
        Files.delete(dir.resolve("config.json"));
        assertRefused(Map.of("RESIDENT_MODEL", dir.toString()), dir + " has no config.json");
    }

    @Test
    void truncatedSafetensors() throws Exception {
        Path dir = brokenCopy("truncated");
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("model-00002-of-00002.safetensors").toFile(), "rw")) {
            file.setLength(file.length() / 2);
        }
        assertRefused(Map.of("RESIDENT_MODEL", dir.toString()), "is truncated");
    }

    @Test
    void missingTokenizer() throws Exception {
        Path dir = brokenCopy("no-tokenizer");
        Files.delete(dir.resolve("tokenizer.model"));
        assertRefused(Map.of("RESIDENT_MODEL", dir.toString()), dir + " has no tokenizer.json or tokenizer.model");
    }

    @Test
    void unknownArchitecture() throws Exception {
        Path dir = brokenCopy("unknown-architecture");
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config)
                .replace("\"ChatGLMModel\"", "\"MambaForCausalLM\"").replace("\"chatglm\"", "\"mamba\""));
        assertRefused(Map.of("RESIDENT_MODEL", dir.toString()), "MambaForCausalLM");
    }

    @Test
    void cudaRequestedWithoutGpu() throws Exception {
        assertRefused(Map.of("RESIDENT_DEVICE", "cuda", "HF_HUB_OFFLINE", "1"), "RESIDENT_DEVICE=cuda");
    }

    @Test
    void bfloat16Requested() throws Exception {
        assertRefused(Map.of("RESIDENT_DTYPE", "bfloat16", "HF_HUB_OFFLINE", "1"), "RESIDENT_DTYPE=bfloat16");
    }

    /** The service exits non-zero, and its log names the problem on one "startup failed" line. */
    private void assertRefused(Map<String, String> env, String reason) throws Exception {
        try (Service service = start(env)) {
            int exit = service.awaitExit();
            assertNotEquals(0, exit, service.output());
            List<String> failures = service.output().lines().filter(line -> line.contains("startup failed: ")).toList();
            assertTrue(failures.stream().anyMatch(line -> line.contains(reason)),
                    "no startup-failed line names \"" + reason + "\":\n" + service.output());
        }
    }

    private Path brokenCopy(String name) throws IOException {
        Path source = Fixtures.shared("chatglm3-6b-tiny");
        Path dir = Files.createDirectories(temp.resolve(name));
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
                dir.resolve(file.getFileName()).toFile().setWritable(true);
            }
        }
        return dir;
    }

    private Service start(Map<String, String> env) throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: the integration tests run after ./mvnw package");
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx1g", "-jar", JAR.toString())
                .redirectErrorStream(true)
                .redirectOutput(temp.resolve("service-" + port + ".log").toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(key -> key.startsWith("RESIDENT_") || key.startsWith("HF_"));
        environment.put("HF_HOME", temp.resolve("empty-hf-home").toString());
        environment.putAll(new HashMap<>(env));
        environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        environment.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        return new Service(builder.start(), port, temp.resolve("service-" + port + ".log"));
    }

    private record Service(Process process, int port, Path log) implements AutoCloseable {

        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no output: " + e + ")";
            }
        }

        String get(String path) throws IOException, InterruptedException {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() + " " + response.body();
        }

        void awaitReady() throws InterruptedException {
            long deadline = System.nanoTime() + READY_WITHIN.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new AssertionError("the service exited with " + process.exitValue() + ":\n" + output());
                }
                try {
                    if (get("/q/health/ready").startsWith("200 ")) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            throw new AssertionError("not ready within " + READY_WITHIN + ":\n" + output());
        }

        int awaitExit() throws InterruptedException {
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
            assertEquals(false, process.isAlive());
        }
    }
}
