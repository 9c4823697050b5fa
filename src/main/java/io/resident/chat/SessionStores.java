package io.resident.chat;

import io.quarkus.redis.datasource.RedisDataSource;
import io.resident.ResidentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;

/** The session store RESIDENT_SESSION_STORE names; the Redis client is only created when it is Redis. */
final class SessionStores {

    @Produces
    @ApplicationScoped
    SessionStore store(ResidentConfig config, Instance<RedisDataSource> redis) {
        return switch (config.sessionStore()) {
            case MEMORY -> new InMemorySessionStore();
            case REDIS -> new RedisSessionStore(redis.get(), config.sessionIdleTimeout());
        };
    }
}
