package io.resident.api.ws;

import io.resident.api.ws.ServerFrames.Code;
import io.resident.chat.ChatSession;
import io.resident.chat.ContextOverflowException;
import io.resident.chat.PromptBuilder;
import io.resident.chat.SessionStoreUnavailableException;
import io.resident.engine.EngineBusyException;
import io.resident.engine.FinishReason;
import io.resident.engine.GenerationEvent;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import io.resident.engine.GenerationRequest;
import io.resident.engine.SamplingParams;
import io.resident.engine.ServedModel;
import io.resident.engine.TokenStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One chat turn on its own virtual thread: prompt within the context, a batch slot from the engine, delta frames as
 * the reply is generated, then the done frame. The user message and the reply enter the session's memory when the
 * turn ends; a cancelled turn (cancel frame, disconnect, shutdown) keeps what was generated so far, and leaves no
 * trace when nothing was. Errors change nothing.
 */
final class Turn implements Runnable {

    private static final Logger LOG = Logger.getLogger(Turn.class);
    private static final long STORE_RETRY_MAX_MILLIS = 1000;

    private final ChatConnection chat;
    private final ChatSession session;
    private final ServedModel model;
    private final String content;
    private final SamplingParams params;
    private final StreamBuffer buffer;
    private final Thread thread;
    private final CountDownLatch ended = new CountDownLatch(1);
    private TokenStream stream;
    private boolean admitting;
    private boolean cancelled;
    /** Time spent reading and writing the session (the store's share of the turn). */
    private long storeNanos;

    Turn(ChatConnection chat, String content, SamplingParams params, StreamBuffer.Mode mode) {
        this.chat = chat;
        this.session = chat.session();
        this.model = chat.model();
        this.content = content;
        this.params = params;
        this.buffer = new StreamBuffer(mode);
        this.thread = Thread.ofVirtual().name("resident-chat-turn").unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Stops the reply: its slot is free at the engine's next step and the turn ends with finishReason cancelled. */
    synchronized void cancel() {
        cancelled = true;
        if (stream != null) {
            stream.cancel();
        } else if (admitting) {
            thread.interrupt();
        }
    }

    /** Waits for the turn to end (its memory written, its last frame sent). */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        try {
            long reading = System.nanoTime();
            ChatSession.Conversation conversation = session.conversation();
            storeNanos = System.nanoTime() - reading;
            int[] prompt = new PromptBuilder(model.tokenizer(), model.maxContext())
                    .build(conversation, content, replyBudget()).ids();
            TokenStream admitted = admit(prompt);
            if (admitted == null) {
                finish(ServerFrames.cancelledBeforeStart(prompt.length, session.size()));
            } else {
                stream(admitted);
            }
        } catch (ContextOverflowException e) {
            chat.endTurn(this);
            chat.error(Code.CONTEXT_OVERFLOW, e.getMessage());
        } catch (SessionStoreUnavailableException e) {
            chat.endTurn(this);
            chat.error(Code.BUSY, e.getMessage());
        } catch (EngineBusyException e) {
            chat.endTurn(this);
            chat.engineBusy(e.getMessage(), e.retryAfter());
        } catch (RuntimeException e) {
            LOG.error("A chat turn failed", e);
            chat.endTurn(this);
            chat.error(Code.INTERNAL, "the reply failed: " + e.getMessage());
        } finally {
            chat.endTurn(this);
            ended.countDown();
        }
    }

    /**
     * With max_tokens the reply's budget is max_tokens; without, the reply may run to the context's end and the prompt
     * keeps a quarter of the context free for it.
     */
    private int replyBudget() {
        return params.maxTokens() == Integer.MAX_VALUE ? Math.max(1, model.maxContext() / 4) : params.maxTokens();
    }

    /** Takes a batch slot, waiting while all are in use; null when cancelled first. */
    private TokenStream admit(int[] prompt) {
        synchronized (this) {
            if (cancelled) {
                return null;
            }
            admitting = true;
        }
        TokenStream admitted;
        try {
            admitted = chat.submit(new GenerationRequest(prompt, params));
        } catch (InterruptedException e) {
            admitted = null;
        } finally {
            synchronized (this) {
                admitting = false;
            }
            // a cancel may have interrupted just after submit returned
            Thread.interrupted();
        }
        synchronized (this) {
            stream = admitted;
            if (admitted != null && cancelled) {
                admitted.cancel();
            }
        }
        return admitted;
    }

    private void stream(TokenStream events) {
        StringBuilder reply = new StringBuilder();
        while (true) {
            switch (next(events)) {
                case Token token -> {
                    reply.append(token.text());
                    delta(events, buffer.push(token.text()));
                }
                case Done done -> {
                    reply.append(done.tail());
                    delta(events, buffer.push(done.tail()) + buffer.flush());
                    long writing = System.nanoTime();
                    int remembered = remember(done.reason(), reply.toString());
                    chat.storeTime(Duration.ofNanos(storeNanos + System.nanoTime() - writing));
                    finish(ServerFrames.done(done, remembered));
                    return;
                }
                case Error error -> {
                    LOG.error("The engine failed a chat reply", error.cause());
                    chat.endTurn(this);
                    chat.error(Code.INTERNAL, "the engine failed: " + error.cause());
                    return;
                }
            }
        }
    }

    private static GenerationEvent next(TokenStream events) {
        while (true) {
            try {
                return events.next();
            } catch (InterruptedException e) {
                // only a cancel interrupts this thread, and only while it waits for a slot: stop the reply
                events.cancel();
            }
        }
    }

    private void delta(TokenStream events, String text) {
        if (!text.isEmpty() && !chat.send(ServerFrames.delta(text))) {
            events.cancel();
        }
    }

    /**
     * The turn's messages enter memory; returns the memory's size. An answered turn is never dropped: while the session
     * store is unreachable the write is tried again, and the done frame waits for it.
     */
    private int remember(FinishReason reason, String reply) {
        long backoffMillis = 100;
        while (true) {
            try {
                return reason == FinishReason.CANCELLED && reply.isEmpty() ? session.size() : session.addTurn(content, reply);
            } catch (SessionStoreUnavailableException e) {
                if (backoffMillis == 100) {
                    LOG.warnf("A reply of session %s waits for the session store: %s", session.id(), e.getMessage());
                }
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException interrupted) {
                    // a cancel's interrupt: the reply is over already, its memory still has to be written
                }
                backoffMillis = Math.min(2 * backoffMillis, STORE_RETRY_MAX_MILLIS);
            }
        }
    }

    /** The turn is over before its last frame goes out, so that the client may start the next one at once. */
    private void finish(String lastFrame) {
        chat.endTurn(this);
        chat.send(lastFrame);
    }
}
