package io.resident.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.resident.engine.ModelHolder;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A client that goes away mid-reply cancels it: the engine lets its slot go within moments, streamed or not. */
@QuarkusTest
class DisconnectTest {

    /** Long enough that only a cancel can end the reply within the test. */
    private static final String LONG_REPLY = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story.\"}],"
            + "\"max_tokens\":4000,\"temperature\":0%s}";
    /** Room for a loaded machine, yet far less than the 4,000 tokens of LONG_REPLY take. */
    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    @Inject
    ModelHolder holder;

    @TestHTTPResource("/")
    URL base;

    @BeforeEach
    void ready() throws InterruptedException {
        Ready.await(holder);
        assertTrue(Ready.idle(holder, Duration.ofSeconds(30)), "a reply of another test still runs");
    }

    @Test
    void streamingClientThatHangsUpCancelsItsReply() throws Exception {
        try (Socket socket = post(LONG_REPLY.formatted(",\"stream\":true"))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            for (String line = in.readLine(); line != null && !line.startsWith("data: "); line = in.readLine()) {
                // headers, then the chunked body's first event
            }
            assertEquals(1, holder.served().engine().stats().running(), "the reply runs while the client reads");
        }
        assertTrue(Ready.idle(holder, PROMPTLY), "the slot is still held after the client hung up");
    }

    @Test
    void blockingClientThatHangsUpCancelsItsReply() throws Exception {
        try (Socket socket = post(LONG_REPLY.formatted(""))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (holder.served().engine().stats().running() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, holder.served().engine().stats().running(), "the reply runs while the client waits");
        }
        assertTrue(Ready.idle(holder, PROMPTLY), "the slot is still held after the client hung up");
    }

    /** A raw HTTP request on a socket of its own, so that closing it is the client going away. */
    private Socket post(String body) throws IOException {
        Socket socket = new Socket(base.getHost(), base.getPort());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: " + base.getHost() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return socket;
    }
}
