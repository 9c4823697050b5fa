package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.resident.model.Fixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
            // the demo's own (untied, word-favouring) head counts beside its embedding
            assertReadyLine(service, "resident-demo \\(qwen2, DEMO: random weights\\), 19,522,112 parameters");
            // a CPU run: no CUDA warnings, and the manifest lets JNA load its libraries without a restricted-method warning
            assertFalse(service.output().contains("CUDA driver") || service.output().contains("CudaUtils"), service.output());
            assertFalse(service.output().contains("restricted method"), service.output());
        }
    }

    @Test
    void aJavaOlderThan21SaysSoOnOneLine() throws Exception {
        Path oldJava = olderJava();
        Process process = new ProcessBuilder(oldJava.toString(), "-jar", JAR.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, process.exitValue(), output);
        assertEquals(1, output.lines().count(), output);
        assertTrue(output.startsWith("resident needs Java 21 or newer, but this is Java "), output);
        assertTrue(output.strip().endsWith("run the jar with the java of a JDK 21+ (25 recommended)"), output);
    }

    /** A java of a JDK older than 21 from the usual install folder; the test is skipped, saying so, without one. */
    private static Path olderJava() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        assumeTrue(Files.isDirectory(jvms), "no " + jvms + " to find a Java older than 21 in");
        try (Stream<Path> homes = Files.list(jvms)) {
            Optional<Path> java = homes.filter(home -> Files.isRegularFile(home.resolve("release")))
                    .filter(home -> featureVersion(home) < 21)
                    .map(home -> home.resolve("bin/java")).filter(Files::isExecutable).findFirst();
            assumeTrue(java.isPresent(), "no Java older than 21 in " + jvms);
            return java.get();
        }
    }

    private static int featureVersion(Path home) {
        try {
            Matcher version = Pattern.compile("JAVA_VERSION=\"(1\\.)?(\\d+)").matcher(Files.readString(home.resolve("release")));
            return version.find() ? Integer.parseInt(version.group(2)) : Integer.MAX_VALUE;
        } catch (IOException e) {
            return Integer.MAX_VALUE;
        }
    }

    @Test
    void chatGlmFixtureDirectory() throws Exception {
        Path fixture = Fixtures.own("chatglm3-6b-tiny");
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
        assertTrue(line.matches(".*Ready: " + model + ", float32 on cpu, \\d+ at once, \\d+ KV-cache blocks of 16, context \\d+;"
                + " load \\d+\\.\\d\\d s, warm-up \\d+\\.\\d\\d s, process memory \\d+\\.\\d\\d GiB"), line);
    }

    @Test
    void sigtermDrainsTheEngineThenStops() throws Exception {
        Path fixture = Fixtures.own("chatglm3-6b-tiny");
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
    void aNamedModelThatCannotBeHadIsRefusedNeverServedAsTheDemo() throws Exception {
        assertRefused(Map.of("RESIDENT_MODEL", "THUDM/chatglm3-6b", "HF_HUB_OFFLINE", "1"),
                "startup failed: THUDM/chatglm3-6b is not in the Hugging Face cache");
    }

    @Test
    void cudaRequestedWithoutGpu() throws Exception {
        // only libtorch knows its GPUs: refused once it is loaded, before the model is resolved
        String output = assertRefused(Map.of("RESIDENT_DEVICE", "cuda", "RESIDENT_MODEL", "THUDM/chatglm3-6b"),
                "startup failed: RESIDENT_DEVICE=cuda");
        assertFalse(output.contains("Hugging Face cache"), output);
    }

    @Test
    void aDeviceThatIsNoneIsRefused() throws Exception {
        assertRefusedBeforeListening(Map.of("RESIDENT_DEVICE", "gpu0", "RESIDENT_MODEL", "THUDM/chatglm3-6b"),
                "startup failed: RESIDENT_DEVICE=gpu0: not one of auto, cpu, cuda, cuda:N");
    }

    @Test
    void bfloat16Requested() throws Exception {
        assertRefusedBeforeListening(Map.of("RESIDENT_DTYPE", "bfloat16", "RESIDENT_MODEL", "THUDM/chatglm3-6b"),
                "startup failed: RESIDENT_DTYPE=bfloat16: dtype bfloat16 needs a GPU and resident's native companion");
    }

    @Test
    void noBatchSlots() throws Exception {
        assertRefusedBeforeListening(Map.of("RESIDENT_MAX_BATCH", "0", "RESIDENT_MODEL", "THUDM/chatglm3-6b"),
                "startup failed: RESIDENT_MAX_BATCH=0: must be at least 1");
    }

    @Test
    void aPortBeyond65535() throws Exception {
        assertRefusedBeforeListening(Map.of("QUARKUS_HTTP_PORT", "99999"),
                "startup failed: QUARKUS_HTTP_PORT=99999: a TCP port is 0 to 65535");
    }

    /**
     * A setting that is wrong whatever the model: refused on one line at once, before the model is resolved or
     * libtorch loaded (a named model that is nowhere would fail too, later).
     */
    private void assertRefusedBeforeListening(Map<String, String> env, String reason) throws Exception {
        String output = assertRefused(env, reason);
        assertFalse(output.contains("libtorch") || output.contains("Hugging Face cache"), output);
        assertFalse(output.contains("\tat ") || output.contains("Exception"), "no stack trace:\n" + output);
    }

    /** The service exits non-zero, and its log names the problem on one "startup failed" line; returns the log. */
    private String assertRefused(Map<String, String> env, String reason) throws Exception {
        try (ServiceProcess service = start(env)) {
            int exit = service.awaitExit();
            assertNotEquals(0, exit, service.output());
            List<String> failures = service.output().lines().filter(line -> line.contains("startup failed: ")).toList();
            assertEquals(1, failures.size(), "one problem, one line:\n" + service.output());
            assertTrue(failures.get(0).contains(reason), "the startup-failed line does not name \"" + reason + "\":\n" + service.output());
            assertFalse(service.output().contains("Listening on"), "a failed start never says it listens:\n" + service.output());
            return service.output();
        }
    }

    private Path brokenCopy(String name) throws IOException {
        Path source = Fixtures.own("chatglm3-6b-tiny");
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
