package io.resident.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Dockerfiles (no engine runs here to build them) agree with the app, the pom and the .dockerignore. */
class DockerfilesTest {

    private static AppContract app;

    @BeforeAll
    static void load() throws IOException {
        app = AppContract.read();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile.jvm", "Dockerfile.cpu", "Dockerfile.native"})
    void everyImageRunsAsNonRootProbesReadinessAndKeepsModelsOnAVolume(String name) throws IOException {
        Stage runtime = Dockerfile.read(name).runtime();
        String user = runtime.last("USER");
        assertTrue(user.matches("\\d+") && !user.equals("0"), "USER must be a numeric non-root id for runAsNonRoot: " + user);
        assertEquals("1001", user, "the id the Kubernetes securityContext runs as");
        assertEquals(List.of(String.valueOf(app.port())), List.of(runtime.last("EXPOSE").split("\\s+")));
        assertEquals("/models", runtime.last("VOLUME"));
        assertEquals("/models", runtime.env().get("HF_HOME"));
        String healthcheck = runtime.last("HEALTHCHECK");
        assertTrue(healthcheck.endsWith("CMD [\"probe\", \"" + app.readyPath() + "\"]"), healthcheck);
        assertTrue(runtime.all("COPY").contains("--chmod=0755 docker/probe.sh /usr/local/bin/probe"));
        assertTrue(runtime.env().containsKey("DJL_CACHE_DIR"), "DJL's natives are baked into the image");
    }

    @Test
    void gpuImageCarriesDjlsLibtorchForTheCudaOfItsBase() throws IOException {
        Dockerfile file = Dockerfile.read("Dockerfile.jvm");
        Stage runtime = file.runtime();
        Map<String, String> env = runtime.env();

        Matcher cuda = Pattern.compile("nvidia/cuda:(\\d+)\\.(\\d+)\\.\\d+-cudnn-runtime-ubuntu24\\.04").matcher(runtime.from());
        assertTrue(cuda.matches(), runtime.from());
        assertEquals("cu" + cuda.group(1) + cuda.group(2), env.get("PYTORCH_FLAVOR"), "DJL's libtorch build for the base's CUDA");
        assertEquals(app.libtorchVersion(), env.get("PYTORCH_VERSION"), "libtorch.version in pom.xml");
        assertEquals(env.get("DJL_CACHE_DIR") + "/pytorch/" + env.get("PYTORCH_VERSION") + "-" + env.get("PYTORCH_FLAVOR")
                + "-linux-x86_64", env.get("PYTORCH_LIBRARY_PATH"), "where DJL put libtorch while the image built");
        assertTrue(env.get("JDK_JAVA_OPTIONS").contains("-Dai.djl.offline=true"));
        assertTrue(env.get("JDK_JAVA_OPTIONS").contains("-XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=" + env.get("HF_HOME") + "/"),
                "the class-data archive lives in the model volume, written at the first start");
        assertTrue(runtime.all("COPY").contains("--from=eclipse-temurin:25-jre /opt/java/openjdk /opt/java/openjdk"));

        Stage libtorch = file.stage("libtorch");
        assertEquals(runtime.from(), libtorch.from(), "libtorch is fetched and loaded once on the runtime's base");
        assertEquals(env.get("DJL_CACHE_DIR"), libtorch.env().get("DJL_CACHE_DIR"));
        assertTrue(libtorch.last("RUN").contains("DjlNatives.java"));
        assertTrue(runtime.all("COPY").contains("--from=libtorch /opt/djl /opt/djl"));

        Stage companion = file.stage("native");
        assertTrue(companion.all("RUN").get(0).contains("torch==" + env.get("PYTORCH_VERSION")), "built against the libtorch DJL loads");
        assertTrue(companion.last("RUN").contains("/src/cpp/build.sh"), "built by the command a bare GPU host runs");
        assertTrue(runtime.all("COPY").contains("--from=native /out/libresident_native.so /app/native/"));
        assertEquals("/app/native/libresident_native.so", env.get("RESIDENT_NATIVE_LIBRARY"));

        String build = file.stage("build").last("RUN");
        for (String part : List.of("./mvnw", "package", "-DskipTests", "-Dno-cpu-libtorch")) {
            assertTrue(build.contains(part), build);
        }
    }

    @Test
    void cpuImageTakesLibtorchFromMavenOnASlimJre() throws IOException {
        Dockerfile file = Dockerfile.read("Dockerfile.cpu");
        assertEquals("eclipse-temurin:25-jre", file.runtime().from());
        assertEquals("cpu", file.runtime().env().get("RESIDENT_DEVICE"));
        Stage build = file.stage("build");
        String packaging = build.all("RUN").get(0);
        assertTrue(packaging.contains("./mvnw") && packaging.contains("package"), packaging);
        assertFalse(packaging.contains("no-cpu-libtorch"), "the CPU image keeps the cpu-libtorch profile on");
        assertTrue(build.last("RUN").contains("DjlNatives.java"));
    }

    @Test
    void nativeImageIsBuiltByMandrelForTheQuarkusMicroBase() throws IOException {
        Dockerfile file = Dockerfile.read("Dockerfile.native");
        assertEquals("quay.io/quarkus/ubi9-quarkus-micro-image:2.0", file.runtime().from());
        assertEquals("quay.io/quarkus/ubi9-quarkus-mandrel-builder-image:jdk-25", file.stage("build").from());
        assertTrue(file.stage("build").all("RUN").get(0).contains("package -Dnative"));
        assertTrue(String.join(" ", file.runtime().all("ENTRYPOINT")).contains("-Dai.djl.offline=true"));
    }

    @Test
    void dockerignoreLetsInEverythingTheBuildsTakeFromTheContext() throws IOException {
        List<String> lines = Files.readAllLines(Path.of(".dockerignore")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertEquals("*", lines.get(0), "an allow-list keeps target/, .git and local files out of the context");
        List<String> allowed = lines.stream().filter(l -> l.startsWith("!")).map(l -> l.substring(1)).toList();
        for (String name : List.of("Dockerfile.jvm", "Dockerfile.cpu", "Dockerfile.native")) {
            for (String source : Dockerfile.read(name).contextSources()) {
                String top = source.split("/")[0];
                assertTrue(allowed.contains(top), name + " takes " + source + " but .dockerignore leaves it out");
            }
        }
    }

    @Test
    void healthcheckProbeIsHealthyOnlyWhenTheAppAnswers200() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(app.readyPath(), exchange -> {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.createContext(app.livePath(), exchange -> {
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            assertEquals(0, probe(port, app.readyPath()), "200 is healthy");
            assertNotEquals(0, probe(port, app.livePath()), "503 is unhealthy");
            assertNotEquals(0, probe(port, "/nothing-here"), "404 is unhealthy");
        } finally {
            server.stop(0);
        }
        int closedPort;
        try (var socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        assertNotEquals(0, probe(closedPort, app.readyPath()), "no server is unhealthy");
    }

    private static int probe(int port, String path) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", "docker/probe.sh", path).redirectErrorStream(true);
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        Process process = builder.start();
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), "probe hung");
        return process.exitValue();
    }

    /** One build stage: its FROM image, its AS name, its instructions with build ARG defaults filled in. */
    record Stage(String from, String name, List<String[]> instructions) {

        List<String> all(String keyword) {
            return instructions.stream().filter(i -> i[0].equals(keyword)).map(i -> i[1]).toList();
        }

        String last(String keyword) {
            List<String> found = all(keyword);
            if (found.isEmpty()) {
                throw new AssertionError("stage " + name + " has no " + keyword);
            }
            return found.get(found.size() - 1);
        }

        /** ENV KEY=value pairs ("..." quoting a value with spaces); the legacy "ENV KEY value" form is not used here. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            Matcher pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)").matcher("");
            for (String args : all("ENV")) {
                pair.reset(args);
                while (pair.find()) {
                    env.put(pair.group(1), pair.group(2).replaceAll("^\"|\"$", ""));
                }
            }
            return env;
        }
    }

    /** A Dockerfile split into stages; continuation lines joined, comments dropped, as BuildKit reads it. */
    record Dockerfile(List<Stage> stages) {

        static Dockerfile read(String name) throws IOException {
            String text = Files.readString(Path.of("docker", name)).replaceAll("\\\\\\n(\\s*#[^\\n]*\\n)*", " ");
            Map<String, String> args = new LinkedHashMap<>();
            List<Stage> stages = new ArrayList<>();
            List<String[]> current = null;
            for (String line : text.split("\\n")) {
                String trimmed = line.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                String[] parts = trimmed.split("\\s+", 2);
                String keyword = parts[0].toUpperCase();
                String rest = parts.length > 1 ? parts[1].replaceAll("\\s+", " ") : "";
                if (keyword.equals("ARG") && current == null) {
                    String[] kv = rest.split("=", 2);
                    args.put(kv[0], kv.length > 1 ? kv[1] : "");
                    continue;
                }
                for (var arg : args.entrySet()) {
                    rest = rest.replace("${" + arg.getKey() + "}", arg.getValue());
                }
                if (keyword.equals("FROM")) {
                    String[] from = rest.split(" ");
                    current = new ArrayList<>();
                    stages.add(new Stage(from[0], from.length == 3 ? from[2] : "final", current));
                } else if (current == null) {
                    throw new IllegalStateException(name + ": " + keyword + " before FROM");
                } else {
                    current.add(new String[] {keyword, rest});
                }
            }
            return new Dockerfile(stages);
        }

        Stage runtime() {
            return stages.get(stages.size() - 1);
        }

        Stage stage(String name) {
            return stages.stream().filter(s -> s.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no stage " + name));
        }

        /** Paths COPY and RUN --mount=type=bind take from the build context (not from another stage or image). */
        List<String> contextSources() {
            List<String> sources = new ArrayList<>();
            Pattern bind = Pattern.compile("--mount=type=bind,(?![^ ]*from=)[^ ]*source=([^, ]+)");
            for (Stage stage : stages) {
                for (String copy : stage.all("COPY")) {
                    List<String> words = List.of(copy.split(" "));
                    if (words.stream().noneMatch(w -> w.startsWith("--from="))) {
                        List<String> paths = words.stream().filter(w -> !w.startsWith("--")).toList();
                        sources.addAll(paths.subList(0, paths.size() - 1));
                    }
                }
                for (String run : stage.all("RUN")) {
                    Matcher m = bind.matcher(run);
                    while (m.find()) {
                        sources.add(m.group(1));
                    }
                }
            }
            return sources;
        }
    }
}
