package io.resident.ops;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the deployment files must agree with, read from the app's own sources: port, health and metrics paths, settings. */
public record AppContract(int port, String livePath, String readyPath, String startedPath, String metricsPath,
                   Map<String, String> envExample, String libtorchVersion) {

    static AppContract read() throws IOException {
        Properties app = new Properties();
        try (Reader in = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            app.load(in);
        }
        // Quarkus defaults: health under the non-application root /q, relative paths join onto their parent.
        String root = under("/", app.getProperty("quarkus.http.non-application-root-path", "q"));
        String health = under(root, app.getProperty("quarkus.smallrye-health.root-path", "health"));
        return new AppContract(
                Integer.parseInt(app.getProperty("quarkus.http.port", "8080")),
                under(health, app.getProperty("quarkus.smallrye-health.liveness-path", "live")),
                under(health, app.getProperty("quarkus.smallrye-health.readiness-path", "ready")),
                under(health, app.getProperty("quarkus.smallrye-health.startup-path", "started")),
                under(root, app.getProperty("quarkus.micrometer.export.prometheus.path", "metrics")),
                envExample(Path.of(".env.example")),
                pomProperty("libtorch.version"));
    }

    private static String under(String parent, String path) {
        return path.startsWith("/") ? path : parent.replaceAll("/$", "") + "/" + path;
    }

    /** KEY=value lines in file order; '#' lines are comments. A key given twice is an error in the file. */
    public static Map<String, String> envExample(Path file) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            if (eq <= 0) {
                throw new IllegalStateException(file + ": not KEY=value: " + line);
            }
            if (entries.put(trimmed.substring(0, eq), trimmed.substring(eq + 1)) != null) {
                throw new IllegalStateException(file + ": " + trimmed.substring(0, eq) + " given twice");
            }
        }
        return entries;
    }

    private static String pomProperty(String name) throws IOException {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(Files.readString(Path.of("pom.xml")));
        if (!m.find()) {
            throw new IllegalStateException("pom.xml has no property " + name);
        }
        return m.group(1).strip();
    }
}
