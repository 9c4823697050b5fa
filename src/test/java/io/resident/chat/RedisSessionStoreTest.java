package io.resident.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.resident.tokenizer.Message;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.UserMessage;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Sessions in a real redis-server: atomic turns from concurrent writers, the idle timeout as every key's TTL, expiry. */
@QuarkusTest
@TestProfile(RedisProfile.class)
class RedisSessionStoreTest {

    private static final Duration IDLE_TIMEOUT = Duration.parse("PT" + RedisProfile.IDLE_TIMEOUT);

    @Inject
    ChatSessions sessions;

    @Inject
    SessionStore store;

    @Inject
    RedisDataSource redis;

    @Test
    void theStoreIsRedis() {
        assertTrue(store.shared());
        assertEquals("redis", store.check());
    }

    @Test
    void turnsOfTwoInstancesWritingAtOnceNeverInterleave() throws Exception {
        // two stores over one Redis stand for two replicas; eight writers each, released together
        List<SessionStore> replicas = List.of(store, new RedisSessionStore(redis, IDLE_TIMEOUT));
        String id = sessions.open(null, "writer", "127.0.0.1").session().id();
        int writers = 16;
        int turns = 25;
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < writers; w++) {
                SessionStore replica = replicas.get(w % 2);
                int writer = w;
                pool.submit(() -> {
                    start.await();
                    for (int t = 0; t < turns; t++) {
                        replica.appendTurn(id, UserMessage.from("q " + writer + "." + t), AiMessage.from("a " + writer + "." + t), 1000);
                    }
                    return null;
                });
            }
            start.countDown();
        }
        List<Message> window = new ChatSession(id, 1000, store, 0).conversation().messages();
        assertEquals(2 * writers * turns, window.size(), "every turn is kept");
        List<String> order = new ArrayList<>();
        for (int i = 0; i < window.size(); i += 2) {
            assertEquals("user", window.get(i).role(), "message " + i);
            assertEquals("assistant", window.get(i + 1).role(), "message " + (i + 1));
            String turn = window.get(i).content().substring(2);
            assertEquals("a " + turn, window.get(i + 1).content(), "a question is followed by its own answer");
            order.add(turn);
        }
        for (int w = 0; w < writers; w++) {
            String prefix = w + ".";
            assertEquals(IntStream.range(0, turns).mapToObj(t -> prefix + t).toList(),
                    order.stream().filter(t -> t.startsWith(prefix)).toList(), "writer " + w + "'s turns, in its order");
        }
        // the window of 20 keeps the newest ten turns, whole
        int size = store.appendTurn(id, UserMessage.from("q last"), AiMessage.from("a last"), 20);
        assertEquals(20, size);
        List<Message> last = new ChatSession(id, 20, store, 0).conversation().messages();
        assertEquals(new Message("user", "q last"), last.get(18));
        assertEquals(new Message("assistant", "a last"), last.get(19));
        assertEquals(window.subList(window.size() - 18, window.size()), last.subList(0, 18));
    }

    @Test
    void aSessionOpenedByAnotherInstanceLeavesThisOne() throws Exception {
        ChatSession session = sessions.open(null, "here", "127.0.0.1").session();
        List<String> closed = new CopyOnWriteArrayList<>();
        sessions.onTakenElsewhere(closed::add);
        RedisSessionStore elsewhere = new RedisSessionStore(redis, IDLE_TIMEOUT);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        // the announcement reaches this instance once its subscription is up (the readiness check makes sure of it)
        while (closed.isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no take-over arrived");
            store.check();
            elsewhere.announceOpened(session.id());
            Thread.sleep(200);
        }
        assertEquals(List.of("here"), closed);
        assertFalse(session.ownedBy("here"));
        assertTrue(sessions.find(session.id()).isEmpty(), "the session is the other instance's now");
    }

    @Test
    void everyWriteSetsTheIdleTimeoutAsTheTtlOfTheSessionsKeys() {
        ChatSession session = sessions.open(null, "ttl", "127.0.0.1").session();
        session.systemPrompt("Be brief.");
        session.addTurn("Hello", "Hi");
        for (String key : List.of(RedisSessionStore.metaKey(session.id()), RedisSessionStore.messagesKey(session.id()))) {
            long ttl = redis.key().pttl(key);
            assertTrue(ttl > 0 && ttl <= IDLE_TIMEOUT.toMillis(), key + " has a TTL of " + ttl + " ms");
        }
        assertEquals("Be brief.", redis.hash(String.class).hget(RedisSessionStore.metaKey(session.id()), "systemPrompt"));
        long lastActive = Long.parseLong(redis.hash(String.class).hget(RedisSessionStore.metaKey(session.id()), "lastActive"));
        assertTrue(Math.abs(System.currentTimeMillis() - lastActive) < 60_000, "last activity in epoch ms: " + lastActive);
        assertEquals(new ChatSession.Conversation("Be brief.", List.of(new Message("user", "Hello"), new Message("assistant", "Hi"))),
                session.conversation());
        session.clear();
        assertEquals(new ChatSession.Conversation("Be brief.", List.of()), session.conversation(), "a reset keeps the system prompt");
        sessions.release(session, "ttl");
    }

    @Test
    void anIdleSessionExpiresByItsTtlAndCannotBeResumed() throws Exception {
        ChatSessions.Opened opened = sessions.open(null, "idle", "127.0.0.1");
        String id = opened.session().id();
        opened.session().addTurn("Remember me", "I will not");
        sessions.release(opened.session(), "idle");
        assertTrue(store.exists(id));
        long deadline = System.nanoTime() + 10 * IDLE_TIMEOUT.toNanos();
        while (store.exists(id)) {
            assertTrue(System.nanoTime() < deadline, "the session outlived ten idle timeouts");
            Thread.sleep(100);
        }
        assertFalse(redis.key().exists(RedisSessionStore.messagesKey(id)), "the memory expires with the session");
        ChatSessions.Opened again = sessions.open(id, "idle-again", "127.0.0.1");
        assertFalse(again.resumed());
        assertNotEquals(id, again.session().id());
        assertEquals(0, again.session().size());
        sessions.release(again.session(), "idle-again");
    }
}
