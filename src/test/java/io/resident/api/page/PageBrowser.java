package io.resident.api.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs src/test/e2e/chat-page.mjs (playwright-core driving Debian's headless chromium) against the running app and
 * reads what it saw. Without chromium, node or playwright-core the browser tests are skipped with a message, except
 * in CI (CI=true), where they fail: .ci/e2e-tools installs all three.
 */
final class PageBrowser {

    static final Path E2E = Path.of("src/test/e2e");
    static final Path OUT = Path.of("target/e2e");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Duration READY_WITHIN = Duration.ofSeconds(120);
    private static final Duration RUN_WITHIN = Duration.ofSeconds(150);
    private static final ObjectMapper JSON = new ObjectMapper();

    private PageBrowser() {}

    /** One suite of scenarios, run once, on the first test that asks for one of its scenarios. */
    static final class Suite {

        private final String name;
        private JsonNode report;

        Suite(String name) {
            this.name = name;
        }

        /** @param apiKey the service's key, or null when it has none */
        synchronized JsonNode scenario(URI base, String apiKey, String scenario) throws IOException, InterruptedException {
            if (report == null) {
                report = run(base, name, apiKey);
            }
            return PageBrowser.scenario(report, scenario);
        }

        /** The whole report, once run. */
        synchronized JsonNode report() {
            return report;
        }
    }

    /**
     * Waits for the model, then runs one suite of scenarios; the report holds one entry per scenario.
     *
     * @param apiKey the service's key, or null when it has none
     */
    private static JsonNode run(URI base, String suite, String apiKey) throws IOException, InterruptedException {
        requireTools();
        awaitReady(base, apiKey);
        Files.createDirectories(OUT);
        Path log = OUT.resolve("node-" + suite + ".log");
        Path report = OUT.resolve("report-" + suite + ".json");
        Files.deleteIfExists(report);
        List<String> command = new ArrayList<>(List.of("node", "chat-page.mjs", base.toString(),
                OUT.toAbsolutePath().toString(), suite));
        if (apiKey != null) {
            command.add(apiKey);
        }
        Process node = new ProcessBuilder(command).directory(E2E.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!node.waitFor(RUN_WITHIN.toSeconds(), TimeUnit.SECONDS)) {
            node.descendants().forEach(ProcessHandle::destroyForcibly);
            node.destroyForcibly();
            fail("the browser run took longer than " + RUN_WITHIN + "; see " + log);
        }
        if (node.exitValue() != 0 || !Files.exists(report)) {
            fail("the browser run failed (exit " + node.exitValue() + "):\n" + Files.readString(log));
        }
        return JSON.readTree(report.toFile());
    }

    /** One scenario's observations; a scenario that threw fails the test with the browser's message. */
    private static JsonNode scenario(JsonNode report, String name) {
        JsonNode entry = report.get(name);
        if (entry == null) {
            fail("the browser run has no scenario " + name + ": " + report);
        }
        if (entry.has("failure")) {
            fail("scenario " + name + " failed in the browser (screenshots in " + OUT + "):\n" + entry.get("failure").asText());
        }
        return entry;
    }

    private static void requireTools() throws IOException, InterruptedException {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(CHROMIUM)) {
            missing.add("Debian's chromium (" + CHROMIUM + ")");
        }
        if (!nodeRuns()) {
            missing.add("node 18 or newer");
        }
        if (!Files.isRegularFile(E2E.resolve("node_modules/playwright-core/package.json"))) {
            missing.add("playwright-core (npm ci in " + E2E + ")");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "the chat page's browser test needs " + String.join(", ", missing) + ": bash .ci/e2e-tools installs them";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message);
        }
        Assumptions.abort(message);
    }

    private static boolean nodeRuns() throws InterruptedException {
        try {
            Process node = new ProcessBuilder("node", "-e", "process.exit(+process.versions.node.split('.')[0] >= 18 ? 0 : 1)")
                    .redirectErrorStream(true).start();
            return node.waitFor(30, TimeUnit.SECONDS) && node.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The model loads on its own thread after the app starts: wait until the page's own info endpoint says READY,
     * with no reply of an earlier test still running or waiting.
     */
    static void awaitReady(URI base, String apiKey) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/api/info"));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        try (HttpClient http = HttpClient.newHttpClient()) {
            while (true) {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), response.body());
                JsonNode info = JSON.readTree(response.body());
                String state = info.get("state").asText();
                if (state.equals("READY") && info.get("load").get("running").asInt() == 0 && info.get("load").get("waiting").asInt() == 0) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    fail("the model is " + state + ", load " + info.get("load") + ", after " + READY_WITHIN);
                }
                Thread.sleep(100);
            }
        }
    }
}
