package io.resident.chat;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.resident.RedisServer;
import io.resident.ops.DemoEngineProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The demo engine with its sessions in a real redis-server the test starts, and an idle timeout of two seconds. */
public class RedisProfile extends DemoEngineProfile {

    static final String IDLE_TIMEOUT = "2s";

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(super.getConfigOverrides());
        config.put("resident.session-store", "redis");
        config.put("resident.session-idle-timeout", IDLE_TIMEOUT);
        config.put("resident.session-sweep-interval", "500ms");
        return config;
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Redis.class));
    }

    /** Starts redis-server before the app and stops it after. */
    public static class Redis implements QuarkusTestResourceLifecycleManager {

        static RedisServer server;

        @Override
        public Map<String, String> start() {
            try {
                server = RedisServer.start(Files.createTempDirectory("resident-redis"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return Map.of("quarkus.redis.hosts", server.hosts());
        }

        @Override
        public void stop() {
            try {
                server.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
