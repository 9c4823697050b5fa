package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.resident.model.Fixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts the packaged service as an operator would (java -jar) and checks how it comes up, or why it refuses to. */
class StartupIT {

    private static final Path JAR = ServiceProcess.JAR;

    @TempDir
    Path temp;

    @Test
    void demoModelWhenNothingIsConfigured() throws Exception {
        try (ServiceProcess service = start(Map.of("HF_HOME", temp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1"))) {
            String first = service.awaitReady();
            // the HTTP server opens while the model still loads (seconds for the demo's tokenizer and weights)
            assertTrue(first.startsWith("503 ") && first.contains("\"state\": \"LOADING\""), "readiness while loading: " + first);
            assertTrue(service.output().contains("DEMO MODEL"), service.output());
            assertTrue(service.get("/q/health/ready").contains("resident-demo"));
            assertReadyLine(service, "resident-demo \\(qwen2, DEMO: random weights\\), 9,798,208 parameters");
        }
    }

    @Test
    void chatGlmFixtureDirectory() throws Exception {
        Path fixture = Fixtures.shared("chatglm3-6b-tiny");
        try (ServiceProcess service = start(Map.of("RESIDENT_MODEL", fixture.toString()))) {
            service.awaitReady();
            assertTrue(service.get("/q/health/ready").contains("\"id\": \"chatglm3-6b-tiny\""), service.output());
            // the parameter count of ChatGLMTest.readsTheChatGLMConfig
            assertReadyLine(service, "chatglm3-6b-tiny \\(chatglm\\), 193,088 parameters");
        }
    }

    /** The ready line: what is served, its parameters, dtype and device, load and warm-up times, memory in use. */
    private static void assertReadyLine(ServiceProcess service, String model) {
        String line = service.output().lines().filter(l -> l.contains("Ready: ")).findFirst().orElseThrow(
                () -> new AssertionError("no ready line:\n" + service.output()));
        assertTrue(line.matches(".*Ready: " + model + ", float32 on cpu, \\d+ slots x \\d+ positions;"
                + " load \\d+\\.\\d\\d s, warm-up \\d+\\.\\d\\d s, process memory \\d+\\.\\d\\d GiB"), line);
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
            assertEquals(0, service.process().exitValue(), "a clean drain after SIGTERM exits 0");
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
        assertRefused(Map.of("RESIDENT_MODEL", dir.toString()), "startup failed: The directory " + dir + " has no config.json");
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
        try (ServiceProcess service = start(env)) {
            int exit = service.awaitExit();
            assertNotEquals(0, exit, service.output());
            List<String> failures = service.output().lines().filter(line -> line.contains("startup failed: ")).toList();
            assertEquals(1, failures.size(), "one problem, one line:\n" + service.output());
            assertTrue(failures.get(0).contains(reason), "the startup-failed line does not name \"" + reason + "\":\n" + service.output());
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

    private ServiceProcess start(Map<String, String> env) throws IOException {
        return ServiceProcess.start(env, temp);
    }
}
