package io.resident;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.resident.hub.HubSettings;
import io.resident.model.ModelLoader;
import io.resident.ops.AppContract;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The settings are the environment variables the README and .env.example name, with the documented defaults. */
public class ResidentConfigTest {

    /** Every setting's variable with a value other than its default. */
    private static final Map<String, String> EVERY_VARIABLE = Map.ofEntries(
            Map.entry("RESIDENT_MODEL", "Qwen/Qwen2.5-7B-Instruct@main"),
            Map.entry("RESIDENT_DEVICE", "cuda:1"),
            Map.entry("RESIDENT_DTYPE", "float16"),
            Map.entry("RESIDENT_MAX_CONTEXT", "4096"),
            Map.entry("RESIDENT_MAX_BATCH", "4"),
            Map.entry("RESIDENT_MEMORY_WINDOW", "10"),
            Map.entry("RESIDENT_SESSION_IDLE_TIMEOUT", "5m"),
            Map.entry("RESIDENT_READINESS_VRAM_THRESHOLD", "0.8"),
            Map.entry("RESIDENT_API_KEY", "s3cret"),
            Map.entry("RESIDENT_MAX_WAITING", "3"),
            Map.entry("RESIDENT_MAX_WAITING_PER_CLIENT", "2"),
            Map.entry("RESIDENT_MAX_WAIT", "2s"),
            Map.entry("RESIDENT_PREFILL_CHUNK", "64"),
            Map.entry("RESIDENT_MAX_STEP_TOKENS", "96"),
            Map.entry("RESIDENT_PREFIX_CACHE", "false"),
            Map.entry("RESIDENT_DRAIN_TIMEOUT", "45s"),
            Map.entry("RESIDENT_SESSION_SWEEP_INTERVAL", "10s"),
            Map.entry("RESIDENT_MAX_SESSIONS", "50"),
            Map.entry("RESIDENT_MAX_CONNECTIONS_PER_CLIENT", "4"),
            Map.entry("RESIDENT_MAX_FRAME_SIZE", "64K"),
            Map.entry("RESIDENT_MAX_MESSAGE_LENGTH", "1000"),
            Map.entry("RESIDENT_MAX_REQUEST_BODY", "1M"),
            Map.entry("RESIDENT_SESSION_STORE", "redis"),
            Map.entry("RESIDENT_MAX_SESSIONS_PER_CLIENT", "5"),
            Map.entry("RESIDENT_NEW_SESSIONS_PER_CLIENT_PER_MINUTE", "6"),
            Map.entry("RESIDENT_WS_COMPRESSION", "true"),
            Map.entry("RESIDENT_ALLOWED_ORIGINS", "https://a.example,https://b.example"),
            Map.entry("RESIDENT_IDLE_TIMEOUT", "90s"),
            Map.entry("RESIDENT_MAX_HTTP_CONNECTIONS_PER_CLIENT", "7"),
            Map.entry("RESIDENT_HEADER_TIMEOUT", "3s"));

    public static ResidentConfig read(Map<String, String> env) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new EnvConfigSource(env, 300))
                .withConverter(Duration.class, 200, new DurationConverter())
                .withConverter(MemorySize.class, 200, new MemorySizeConverter())
                .withMapping(ResidentConfig.class)
                .build();
        return config.getConfigMapping(ResidentConfig.class);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        ResidentConfig c = read(Map.of());
        assertEquals(Optional.empty(), c.model(), "unset: the demo model");
        assertEquals(List.of("auto", "auto"), List.of(c.device(), c.dtype()));
        assertEquals(OptionalInt.empty(), c.maxContext(), "unset: the model's own limit");
        assertEquals(List.of(8, 20, 64), List.of(c.maxBatch(), c.memoryWindow(), c.maxWaiting()));
        assertEquals(OptionalInt.empty(), c.prefillChunk(), "unset: by device");
        assertEquals(OptionalInt.empty(), c.maxStepTokens(), "unset: by device");
        assertTrue(c.prefixCache());
        assertEquals(List.of(Duration.ofMinutes(30), Duration.ofSeconds(30), Duration.ofSeconds(30)),
                List.of(c.sessionIdleTimeout(), c.maxWait(), c.drainTimeout()));
        assertEquals(0.92, c.readinessVramThreshold());
        assertEquals(Optional.empty(), c.apiKey(), "unset: open");
        assertEquals(List.of(Duration.ofMinutes(1), 1000, 32, 65536),
                List.of(c.sessionSweepInterval(), c.maxSessions(), c.maxConnectionsPerClient(), c.maxMessageLength()));
        assertEquals(List.of(512L << 10, 10L << 20), List.of(c.maxFrameSize().asLongValue(), c.maxRequestBody().asLongValue()));
        assertEquals(ResidentConfig.SessionStoreKind.MEMORY, c.sessionStore(), "sessions in memory unless Redis is asked for");
        assertEquals(List.of(100, 60), List.of(c.maxSessionsPerClient(), c.newSessionsPerClientPerMinute()));
        assertEquals(false, c.wsCompression(), "compressed messages are inflated before any cap");
        assertEquals(Optional.empty(), c.allowedOrigins(), "unset: the service's own origin only");
        assertEquals(Duration.ofMinutes(5), c.idleTimeout());
        assertEquals(64, c.maxHttpConnectionsPerClient());
        assertEquals(Duration.ofSeconds(10), c.headerTimeout());
        assertEquals(16, c.maxWaitingPerClient(), "a quarter of RESIDENT_MAX_WAITING");
    }

    @Test
    void everySettingIsReadFromItsEnvironmentVariable() {
        ResidentConfig c = read(EVERY_VARIABLE);
        assertEquals(Optional.of("Qwen/Qwen2.5-7B-Instruct@main"), c.model());
        assertEquals(List.of("cuda:1", "float16"), List.of(c.device(), c.dtype()));
        assertEquals(OptionalInt.of(4096), c.maxContext());
        assertEquals(List.of(4, 10, 3), List.of(c.maxBatch(), c.memoryWindow(), c.maxWaiting()));
        assertEquals(OptionalInt.of(64), c.prefillChunk());
        assertEquals(OptionalInt.of(96), c.maxStepTokens());
        assertFalse(c.prefixCache());
        assertEquals(List.of(Duration.ofMinutes(5), Duration.ofSeconds(2), Duration.ofSeconds(45)),
                List.of(c.sessionIdleTimeout(), c.maxWait(), c.drainTimeout()));
        assertEquals(0.8, c.readinessVramThreshold());
        assertEquals(Optional.of("s3cret"), c.apiKey());
        assertEquals(List.of(Duration.ofSeconds(10), 50, 4, 1000),
                List.of(c.sessionSweepInterval(), c.maxSessions(), c.maxConnectionsPerClient(), c.maxMessageLength()));
        assertEquals(List.of(64L << 10, 1L << 20), List.of(c.maxFrameSize().asLongValue(), c.maxRequestBody().asLongValue()));
        assertEquals(ResidentConfig.SessionStoreKind.REDIS, c.sessionStore());
        assertEquals(List.of(5, 6), List.of(c.maxSessionsPerClient(), c.newSessionsPerClientPerMinute()));
        assertEquals(true, c.wsCompression());
        assertEquals(Optional.of(List.of("https://a.example", "https://b.example")), c.allowedOrigins());
        assertEquals(Duration.ofSeconds(90), c.idleTimeout());
        assertEquals(7, c.maxHttpConnectionsPerClient());
        assertEquals(Duration.ofSeconds(3), c.headerTimeout());
        assertEquals(2, c.maxWaitingPerClient());
        assertEquals(ResidentConfig.class.getDeclaredMethods().length, EVERY_VARIABLE.size(), "a setting missing from this test");
    }

    /**
     * .env.example holds exactly the variables the code reads: the config mapping's, the Hugging Face ones
     * HubSettings asks for, the Quarkus properties the code names, and where the server listens.
     */
    @Test
    void envExampleListsEveryVariableTheCodeReadsAndNoOther() throws IOException {
        // the HTTP server's own, and the Redis client extension's, which the session store uses
        Set<String> read = new TreeSet<>(List.of("QUARKUS_HTTP_PORT", "QUARKUS_HTTP_HOST", "QUARKUS_REDIS_HOSTS"));
        for (Method setting : ResidentConfig.class.getDeclaredMethods()) {
            WithName name = setting.getAnnotation(WithName.class);
            read.add(environmentName("resident." + (name != null ? name.value()
                    : setting.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT))));
        }
        Map<String, String> askedFor = new HashMap<>() {
            @Override
            public String get(Object key) {
                read.add((String) key);
                return null;
            }
        };
        HubSettings.fromEnv(askedFor);
        read.remove("XDG_CACHE_HOME"); // the desktop's cache folder, where HF_HOME defaults to
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source : sources.filter(Files::isRegularFile).toList()) {
                Matcher property = Pattern.compile("\"(quarkus\\.[a-z.-]+)\"").matcher(Files.readString(source));
                while (property.find()) {
                    read.add(environmentName(property.group(1)));
                }
                Matcher variable = Pattern.compile("System\\.getenv\\(\"([A-Z_]+)\"\\)").matcher(Files.readString(source));
                while (variable.find()) {
                    read.add(variable.group(1));
                }
            }
        }

        assertEquals(read, new TreeSet<>(AppContract.envExample(Path.of(".env.example")).keySet()));
        String readme = Files.readString(Path.of("README.md"));
        assertEquals(List.of(), read.stream().filter(variable -> !readme.contains("`" + variable + "`")).toList(),
                "variables the README does not name");
    }

    private static String environmentName(String property) {
        return property.toUpperCase(Locale.ROOT).replaceAll("[.-]", "_");
    }

    @Test
    void autoDtypeIsFloat32OnTheCpuAndOnAGpuFloat16UnlessTheCheckpointIsFloat32() {
        assertEquals(DataType.FLOAT32, ModelLoader.dtype("auto", Device.cpu(), "bfloat16"));
        assertEquals(DataType.FLOAT16, ModelLoader.dtype("auto", Device.gpu(), "bfloat16"));
        assertEquals(DataType.FLOAT16, ModelLoader.dtype("auto", Device.gpu(), "float16"));
        assertEquals(DataType.FLOAT32, ModelLoader.dtype("auto", Device.gpu(), "float32"));
    }

    @Test
    void envExampleExplainsAndTheReadmeListsEveryVariable() throws IOException {
        List<String> example = Files.readAllLines(Path.of(".env.example"));
        String readme = Files.readString(Path.of("README.md"));
        for (String variable : EVERY_VARIABLE.keySet()) {
            int line = example.stream().map(l -> l.split("=", 2)[0]).toList().indexOf(variable);
            assertTrue(line > 0, ".env.example has no " + variable + "= line");
            assertTrue(example.get(line - 1).startsWith("# "), ".env.example explains " + variable + " on the line above it");
            assertTrue(readme.contains("`" + variable + "`"), "the README's table has no " + variable);
        }
    }
}
