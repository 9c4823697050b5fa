package io.resident.api.ws;

import static org.junit.jupiter.api.Assertions.fail;

import io.quarkus.test.common.http.TestHTTPResource;
import io.resident.chat.ChatSessions;
import io.resident.engine.ModelHolder;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import org.junit.jupiter.api.BeforeEach;

/** What the tests against the running app share: the chat endpoint, Vert.x for the clients, the model, the sessions. */
abstract class RunningChatApp {

    @TestHTTPResource("/ws/chat")
    URI endpoint;

    @Inject
    Vertx vertx;

    @Inject
    ModelHolder holder;

    @Inject
    ChatSessions sessions;

    /** Waits until the model is loaded and warmed up, as a client waits for readiness. */
    @BeforeEach
    void modelReady() throws InterruptedException {
        long deadline = System.nanoTime() + ChatClient.WAIT.toNanos();
        while (!holder.ready()) {
            if (System.nanoTime() > deadline) {
                fail("the model did not get ready within " + ChatClient.WAIT + ": " + holder.state());
            }
            Thread.sleep(50);
        }
    }
}
