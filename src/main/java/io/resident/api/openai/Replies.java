package io.resident.api.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.resident.api.ApiException;
import io.resident.api.WaitShares;
import io.resident.engine.FinishReason;
import io.resident.engine.Generation;
import io.resident.engine.GenerationEvent;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import io.resident.engine.GenerationRequest;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one reply on the engine for an HTTP handler that blocks on a virtual thread, whole or as server-sent events.
 * The handler watches its connection while it waits: a client that goes away cancels its reply, and the engine
 * frees the slot at its next step.
 */
final class Replies {

    /** How often a waiting handler looks at its connection. */
    static final Duration WATCH = Duration.ofMillis(50);
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.UTF_8);
    private static final byte[] END_OF_EVENT = "\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    /** What one API sends as a reply streams: chunk objects, each one server-sent event. */
    interface Chunks {
        /** Before the first token (chat: the assistant's role). */
        List<Object> start();

        /** For one token; none while it adds no text and no logprobs were asked for. */
        List<Object> token(Token token);

        /** The last chunk, with finish_reason, then the usage when the request asked for it. */
        List<Object> done(Done done);
    }

    private Replies() {}

    /**
     * Queues the request; a full queue is a 503 (EngineBusyException), a stopped engine too. A client that goes away
     * while queued leaves the queue at once: its connection's close interrupts the wait. The request counts against
     * the client's address in its share of the queue.
     */
    static TokenStream submit(ServedModel model, GenerationRequest request, HttpServerRequest client, WaitShares shares)
            throws InterruptedException {
        HttpServerResponse response = client.response();
        Thread waiter = Thread.currentThread();
        AtomicBoolean queued = new AtomicBoolean(true);
        response.closeHandler(closed -> {
            synchronized (queued) {
                if (queued.get()) {
                    waiter.interrupt();
                }
            }
        });
        try {
            if (response.closed()) {
                throw ApiException.clientGone();
            }
            return shares.submit(model.engine(), request, client.remoteAddress() == null ? "unknown"
                    : client.remoteAddress().host());
        } catch (InterruptedException e) {
            if (response.closed()) {
                throw ApiException.clientGone();
            }
            throw e;
        } catch (IllegalStateException e) {
            throw ApiException.unavailable("The engine is not running: " + e.getMessage(), "engine_unavailable",
                    Duration.ofSeconds(5));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage());
        } finally {
            synchronized (queued) {
                queued.set(false);
                if (response.closed()) {
                    Thread.interrupted(); // a close that came as the slot did: the reply's reader sees it and cancels
                }
            }
            response.closeHandler(null);
        }
    }

    /** Reads the whole reply, or cancels it when the client goes away first. */
    static Generation collect(TokenStream stream, HttpServerResponse client) throws InterruptedException {
        List<Token> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (true) {
            switch (next(stream, client)) {
                case null -> throw ApiException.clientGone();
                case Token token -> {
                    tokens.add(token);
                    text.append(token.text());
                }
                case Done done -> {
                    return new Generation(List.copyOf(tokens), text.append(done.tail()).toString(), done);
                }
                case Error error -> throw failed(error);
            }
        }
    }

    /** The reply as server-sent events ("data: {chunk}" ... "data: [DONE]"), written as the tokens come. */
    static Response events(TokenStream stream, HttpServerResponse client, ObjectMapper json, Chunks chunks) {
        StreamingOutput body = out -> {
            boolean ended = false;
            try {
                send(out, json, chunks.start());
                while (!ended) {
                    switch (next(stream, client)) {
                        case null -> ended = true;
                        case Token token -> send(out, json, chunks.token(token));
                        case Done done -> {
                            ended = true;
                            send(out, json, chunks.done(done));
                            out.write(DONE);
                            out.flush();
                        }
                        case Error error -> {
                            ended = true;
                            send(out, json, List.of(failed(error).body()));
                            out.write(DONE);
                            out.flush();
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // the client went away between two events
            } finally {
                if (!ended) {
                    stream.cancel();
                }
            }
        };
        return Response.ok(body, "text/event-stream").header("Cache-Control", "no-cache").build();
    }

    /** OpenAI's and vLLM's names; a reply cut short by a drain or a cancel is vLLM's "abort". */
    static String finishReason(FinishReason reason) {
        return switch (reason) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "abort";
        };
    }

    /** The next event, or null once the client has gone (the reply is then cancelled). */
    private static GenerationEvent next(TokenStream stream, HttpServerResponse client) throws InterruptedException {
        try {
            while (!client.closed()) {
                GenerationEvent event = stream.poll(WATCH);
                if (event != null) {
                    return event;
                }
            }
        } catch (InterruptedException e) {
            stream.cancel();
            throw e;
        }
        stream.cancel();
        return null;
    }

    private static void send(OutputStream out, ObjectMapper json, List<Object> chunks) throws IOException {
        for (Object chunk : chunks) {
            out.write(DATA);
            out.write(json.writeValueAsBytes(chunk));
            out.write(END_OF_EVENT);
        }
        if (!chunks.isEmpty()) {
            out.flush();
        }
    }

    private static ApiException failed(Error error) {
        return ApiException.internal("The engine failed while generating: " + error.cause(), null);
    }
}
