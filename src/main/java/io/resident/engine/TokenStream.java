package io.resident.engine;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's reply as it is generated: {@link GenerationEvent.Token}s, then one {@link GenerationEvent.Done} or
 * {@link GenerationEvent.Error}. Read it from one thread (a virtual thread blocking in {@link #next()} is cheap);
 * {@link #cancel()} may come from any thread.
 */
public final class TokenStream {

    private final BlockingQueue<GenerationEvent> events = new LinkedBlockingQueue<>();
    private final Runnable wakeEngine;
    private volatile boolean cancelled;
    private GenerationEvent end;

    TokenStream(Runnable wakeEngine) {
        this.wakeEngine = wakeEngine;
    }

    /** Blocks for the next event; after the last one, returns that last event again. */
    public GenerationEvent next() throws InterruptedException {
        return end != null ? end : remember(events.take());
    }

    /** Like {@link #next()}, but returns null when nothing arrived within the timeout. */
    public GenerationEvent poll(Duration timeout) throws InterruptedException {
        return end != null ? end : remember(events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS));
    }

    /**
     * Stops generating (the client cancelled or went away); the slot is free at the engine's next step and the
     * stream ends with Done(cancelled) unless it had already ended. Safe to call more than once.
     */
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            wakeEngine.run();
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Reads the rest of the reply. Cancels the request when the waiting thread is interrupted. */
    public Generation collect() throws InterruptedException {
        List<Token> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        try {
            while (true) {
                switch (next()) {
                    case Token token -> {
                        tokens.add(token);
                        text.append(token.text());
                    }
                    case Done done -> {
                        return new Generation(List.copyOf(tokens), text.append(done.tail()).toString(), done);
                    }
                    case Error error -> throw new IllegalStateException("generation failed: " + error.cause(), error.cause());
                }
            }
        } catch (InterruptedException e) {
            cancel();
            throw e;
        }
    }

    /** Events emitted and not read yet. */
    int unread() {
        return events.size();
    }

    void emit(GenerationEvent event) {
        events.add(event);
    }

    private GenerationEvent remember(GenerationEvent event) {
        if (event instanceof Done || event instanceof Error) {
            end = event;
        }
        return event;
    }
}
