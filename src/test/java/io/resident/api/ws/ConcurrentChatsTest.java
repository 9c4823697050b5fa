package io.resident.api.ws;

import static io.resident.api.ws.ChatClient.options;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.tokenizer.Message;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Many clients at once share the one model, and each session remembers its own conversation and nothing else. */
@QuarkusTest
class ConcurrentChatsTest extends RunningChatApp {

    private static final int CLIENTS = 100;
    private static final int TURNS = 3;

    /** What one client sent and received. */
    record Conversation(ChatClient chat, List<Message> expected) {}

    @Test
    void hundredConnectionsEachWithItsOwnMemory() throws Exception {
        AtomicInteger busy = new AtomicInteger();
        CountDownLatch allOpen = new CountDownLatch(CLIENTS);
        List<Future<Conversation>> futures = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                futures.add(clients.submit(() -> converse(client, allOpen, busy)));
            }
            List<Conversation> conversations = new ArrayList<>();
            for (Future<Conversation> future : futures) {
                conversations.add(future.get());
            }
            try {
                HashSet<String> ids = new HashSet<>();
                for (Conversation conversation : conversations) {
                    ids.add(conversation.chat().sessionId());
                    assertEquals(conversation.expected(),
                            sessions.find(conversation.chat().sessionId()).orElseThrow().conversation().messages());
                }
                assertEquals(CLIENTS, ids.size(), "one session per connection");
            } finally {
                conversations.forEach(conversation -> conversation.chat().close());
            }
        }
        System.out.printf("%d clients x %d turns; %d answered busy and retried%n", CLIENTS, TURNS, busy.get());
    }

    private Conversation converse(int client, CountDownLatch allOpen, AtomicInteger busy) throws InterruptedException {
        ChatClient chat = ChatClient.open(vertx, endpoint, null);
        allOpen.countDown();
        allOpen.await(); // all connections open before the first turn, so that the turns overlap
        try {
            return new Conversation(chat, turns(chat, client, busy));
        } catch (RuntimeException | Error e) {
            chat.close();
            throw e;
        }
    }

    private static List<Message> turns(ChatClient chat, int client, AtomicInteger busy) throws InterruptedException {
        List<Message> expected = new ArrayList<>();
        for (int turn = 0; turn < TURNS; turn++) {
            String content = "client " + client + " turn " + turn;
            ChatClient.Reply reply;
            // more turns than batch slots and waiting places: busy is an answer to retry
            while (true) {
                reply = chat.chat(content, options("max_tokens", 1, "temperature", 1.0, "seed", client * 10 + turn));
                JsonNode end = reply.end();
                if (!(end.path("type").asText().equals("error") && end.path("code").asText().equals("busy"))) {
                    break;
                }
                busy.incrementAndGet();
                Thread.sleep(end.path("retryAfterMs").asLong(1000));
            }
            assertEquals("done", reply.type(), reply.end().toString());
            expected.add(new Message("user", content));
            expected.add(new Message("assistant", reply.text()));
            assertEquals(expected.size(), reply.end().get("memoryMessages").asInt());
        }
        return expected;
    }
}
