package io.resident.engine;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Turns the engine's choices into each reply's events on one output thread, "resident-output", overlapped with the
 * engine's next step: detokenization, stop strings, the text held back at the end, and emission. The engine thread
 * collects a step's outputs and hands them over together once the previous step's are out, so the output thread is
 * at most one step behind. One thread and one queue keep every reply's events in the engine's order, its end last.
 *
 * <p>A stop string marks its sequence {@link Sequence#stopped}: nothing of the sequence after it is emitted, and the
 * engine, which sees the mark by the step after next, ends it (blocks and permit free) before its Done goes out.
 */
final class OutputProcessor implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(OutputProcessor.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final EngineMetrics metrics;
    private final ExecutorService thread =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().name("resident-output").daemon(true).factory());
    /** This step's outputs, in the engine's order; engine thread only. */
    private final List<Output> step = new ArrayList<>();
    private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

    OutputProcessor(EngineMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * A sampled token of the sequence, chosen at {@code nanos}.
     *
     * @param stopId the model's stop id: counted, not shown; the held text goes to the reply's tail
     * @param last   the reply's last token (max tokens, the context end, a closed grammar): the held text follows it
     */
    void token(Sequence s, Sampler.Choice choice, long nanos, boolean stopId, boolean last) {
        step.add(new Output(s, false, () -> {
            if (s.stopped || s.outputFailure != null) {
                return; // past its stop string: nothing more reaches the client
            }
            s.outputTokens++;
            if (s.outputTokens == 1) {
                s.outputFirstNanos = nanos;
            }
            s.outputLastNanos = nanos;
            if (stopId) {
                return;
            }
            String text = s.stops.push(s.decoder.push(choice.id()));
            if (last && !s.stops.stopped()) {
                text += heldText(s);
            }
            s.stream.emit(new Token(choice.id(), text, choice.logprob(), choice.top()));
            s.stopped = s.stops.stopped();
        }));
    }

    /**
     * The sequence ended (its blocks and permit are free): its Done, or its Error where its output failed, after
     * everything handed over before.
     */
    void end(Sequence s, FinishReason reason, long nanos) {
        step.add(new Output(s, true, () -> {
            if (s.outputFailure != null) {
                s.stream.emit(new Error(s.outputFailure));
                return;
            }
            FinishReason why = s.stops.stopped() ? FinishReason.STOP : reason;
            String tail = why == FinishReason.CANCELLED || s.stops.stopped() ? "" : heldText(s);
            double decodeSeconds = (s.outputLastNanos - s.outputFirstNanos) / 1e9;
            metrics.finished(why, Duration.ofNanos(nanos - s.submittedNanos));
            s.stream.emit(new Done(
                    why,
                    tail,
                    s.prompt.length,
                    Math.max(0, s.cachedPromptTokens),
                    s.outputTokens,
                    s.outputTokens == 0 ? Duration.ZERO : Duration.ofNanos(s.outputFirstNanos - s.submittedNanos),
                    Duration.ofNanos(nanos - s.submittedNanos),
                    s.outputTokens < 2 ? 0 : (s.outputTokens - 1) / decodeSeconds));
        }));
    }

    /** The sequence failed (its blocks and permit are free): its Error, after everything handed over before. */
    void fail(Sequence s, Throwable cause) {
        step.add(new Output(s, true, () -> s.stream.emit(new Error(cause))));
    }

    /** Hands this step's outputs to the output thread once the previous step's are out. Engine thread. */
    void flush() {
        if (step.isEmpty()) {
            return;
        }
        List<Output> outputs = List.copyOf(step);
        step.clear();
        previous.join();
        previous = CompletableFuture.runAsync(() -> outputs.forEach(OutputProcessor::run), thread);
    }

    /** Lets the outputs handed over go out (a bounded wait), then ends the thread. */
    @Override
    public void close() {
        flush();
        thread.shutdown();
        try {
            thread.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One sequence's output; the last ends its reply. */
    private record Output(Sequence sequence, boolean last, Runnable work) {}

    /** Runs an output; a failure fails its sequence alone: the engine ends it at its next step, with an Error. */
    private static void run(Output output) {
        try {
            output.work().run();
        } catch (RuntimeException e) {
            LOG.error("Processing a reply's output failed; the reply fails", e);
            Sequence s = output.sequence();
            s.outputFailure = e;
            if (output.last()) {
                s.stream.emit(new Error(e));
            }
        }
    }

    /** The text still held back at the end of a reply: the decoder's unfinished bytes and any unfinished stop prefix. */
    private static String heldText(Sequence s) {
        String text = s.stops.push(s.decoder.flush());
        return s.stops.stopped() ? text : text + s.stops.flush();
    }
}
