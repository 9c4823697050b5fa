package io.resident.engine;

import io.resident.engine.EngineProfile.Phase;
import io.resident.kv.KvCacheManager;
import io.resident.model.CausalLM;
import io.resident.model.CausalLM.Scores;
import io.resident.model.CausalLM.Segment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The engine thread's loop, the only code that calls the model and the KV-cache manager. Each step: take newly
 * admitted sequences, drop cancelled and stopped ones, then one {@link CausalLM#step} call of at most
 * {@code maxStepTokens} tokens while any sequence decodes (else one {@code prefillChunk}): one decode token for every
 * running sequence first, then in what is left (and at most {@code prefillChunk}) chunks of the sequences still
 * prefilling (oldest first, then waiting ones as blocks allow, their cached prefix skipped), then sampling on the
 * device and the token-level ends (a stop id, max tokens, the context end, a closed grammar). Detokenization, stop
 * strings and events run on the {@link OutputProcessor}'s thread during the next step; a sequence it stopped ends by
 * the step after next. When a running sequence needs a block and none is left, the newest running sequence is
 * preempted: its blocks go back and it waits to be recomputed (prompt and generated tokens, as one prompt). A
 * sequence's blocks are free again the step it ends. An exception inside a step fails that step's sequences only.
 * Idle, the thread blocks on its inbox. Its time is accounted by phase ({@link EngineProfile}).
 */
final class Scheduler implements Runnable {

    /** How often an idle engine thread wakes to show it is alive. */
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(Scheduler.class);

    private final CausalLM model;
    private final KvCacheManager kv;
    private final int maxContext;
    private final Set<Integer> stopIds;
    private final int prefillChunk;
    private final int maxStepTokens;
    private final EngineMetrics metrics;
    private final Consumer<Sequence> ended;
    private final Consumer<Throwable> died;
    private final OutputProcessor output;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    /** Sequences without blocks: newly admitted, or preempted (at the front), in the order they get blocks. */
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    /** Sequences holding blocks, oldest first: the last is the one preempted when blocks run out. */
    private final List<Sequence> running = new ArrayList<>();
    private boolean stopRequested;
    private final PhaseClock clock = new PhaseClock();

    private volatile long heartbeatNanos = System.nanoTime();
    private volatile KvCacheManager.Stats kvStats;

    /**
     * @param maxContext the longest sequence, at most the pool's positions
     * @param ended      called on the engine thread once a sequence's blocks are free, just before its last event
     * @param died       called on the engine thread when an unexpected error ends the loop
     */
    Scheduler(CausalLM model, KvCacheManager kv, int maxContext, Set<Integer> stopIds, int prefillChunk,
            int maxStepTokens, EngineMetrics metrics, Consumer<Sequence> ended, Consumer<Throwable> died) {
        this.model = model;
        this.kv = kv;
        this.maxContext = maxContext;
        this.stopIds = Set.copyOf(stopIds);
        this.prefillChunk = prefillChunk;
        this.maxStepTokens = maxStepTokens;
        this.metrics = metrics;
        this.ended = ended;
        this.died = died;
        this.output = new OutputProcessor(metrics);
        this.kvStats = kv.stats();
    }

    /** Hands an admitted sequence (its caller holds a batch permit) to the engine thread. */
    void admit(Sequence sequence) {
        inbox.add(() -> waiting.add(sequence));
    }

    /** Makes an idle engine thread look at its sequences now (a cancellation). */
    void wake() {
        inbox.add(() -> {});
    }

    /** Ends the loop once no sequence is left. */
    void stop() {
        inbox.add(() -> stopRequested = true);
    }

    /** Checks the block pool and prefix-cache index against the sequences' block tables, on the engine thread. */
    CompletableFuture<Void> verifyKvCache() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        inbox.add(() -> {
            try {
                kv.verify(Stream.concat(waiting.stream(), running.stream()).map(s -> s.blocks).toList());
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    long heartbeatNanos() {
        return heartbeatNanos;
    }

    KvCacheManager.Stats kvStats() {
        return kvStats;
    }

    EngineProfile profile() {
        return clock.profile();
    }

    @Override
    public void run() {
        try {
            while (!(stopRequested && idle())) {
                heartbeatNanos = System.nanoTime();
                Runnable command;
                if (idle()) {
                    clock.waitForWork();
                    command = inbox.poll(HEARTBEAT.toNanos(), TimeUnit.NANOSECONDS);
                    clock.woke();
                } else {
                    command = inbox.poll();
                }
                for (; command != null; command = inbox.poll()) {
                    command.run();
                }
                if (!idle()) {
                    step();
                }
                clock.enter(Phase.OUTPUT);
                output.flush();
                clock.enter(Phase.SCHEDULE);
                kvStats = kv.stats();
                clock.publish();
            }
        } catch (Throwable t) {
            died.accept(t);
        } finally {
            output.close();
        }
    }

    private boolean idle() {
        return waiting.isEmpty() && running.isEmpty();
    }

    private void step() {
        dropEnded();
        List<Segment> segments = new ArrayList<>();
        List<Sequence> batch = new ArrayList<>();
        // decode tokens first, prompts share the rest: at least one token, since beside a prompt at most maxBatch - 1 decode;
        // with nothing decoding no reply waits on the step, so a prompt takes a whole chunk
        int decodes = (int) running.stream().filter(Scheduler::decoding).count();
        int budget = decodes == 0 ? prefillChunk : Math.min(prefillChunk, maxStepTokens - decodes);
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            boolean decoding = decoding(s);
            int n = decoding ? 1 : Math.min(budget, s.pending());
            if (n > 0 && reserve(s, s.cached + n)) {
                schedule(s, n, segments, batch);
                budget -= decoding ? 0 : n;
            }
        }
        while (!waiting.isEmpty() && budget > 0) {
            Sequence s = waiting.peek();
            s.cached = kv.reusePrefix(s.blocks, s.tokens, s.length, s.length - 1);
            int n = Math.min(budget, s.pending());
            if (!kv.reserve(s.blocks, s.cached + n)) {
                kv.release(s.blocks);
                s.cached = 0;
                break;
            }
            waiting.poll();
            running.add(s);
            if (s.cachedPromptTokens < 0) {
                s.cachedPromptTokens = s.cached;
                metrics.prefixCacheQueried(s.prompt.length, s.cached);
            }
            schedule(s, n, segments, batch);
            budget -= n;
        }
        if (segments.isEmpty()) {
            return;
        }
        try {
            clock.enter(Phase.MODEL);
            clock.stepped();
            List<Scores> scores = model.step(segments);
            clock.enter(Phase.SCHEDULE);
            for (int row = 0; row < batch.size(); row++) {
                Sequence s = batch.get(row);
                s.cached += segments.get(row).tokens().length;
                kv.indexFull(s.blocks, s.tokens, s.cached);
            }
            clock.enter(Phase.SAMPLE);
            for (int row = 0; row < batch.size(); row++) {
                Sequence s = batch.get(row);
                if (s.pending() == 0) {
                    if (s.generated == 0) {
                        metrics.prefilled(s.prompt.length);
                    }
                    accept(s, s.sampler.next(scores.get(row)));
                }
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            clock.enter(Phase.SCHEDULE);
            LOG.errorf(e, "A step of %d sequences failed; they fail, the engine goes on", batch.size());
            for (Sequence s : batch) {
                if (running.contains(s)) {
                    metrics.failed(e);
                    end(s, null, e);
                }
            }
        }
    }

    /** Whether the sequence's prompt is in and it appends one generated token a step. */
    private static boolean decoding(Sequence s) {
        return s.pending() == 1 && s.cached >= s.prompt.length;
    }

    /** Adds n of the sequence's pending tokens to the step; the segment that ends its pending tokens picks the next. */
    private static void schedule(Sequence s, int n, List<Segment> segments, List<Sequence> batch) {
        segments.add(new Segment(s.blocks.blocks(), s.cached, Arrays.copyOfRange(s.tokens, s.cached, s.cached + n),
                false, n == s.pending() ? s.sampler.pick() : null));
        batch.add(s);
    }

    /**
     * Grows a running sequence's blocks to hold positions [0, positions), preempting the newest running sequences
     * while blocks are short; false when that was the sequence itself.
     */
    private boolean reserve(Sequence s, int positions) {
        while (!kv.reserve(s.blocks, positions)) {
            Sequence newest = running.getLast();
            kv.release(newest.blocks);
            newest.cached = 0;
            running.removeLast();
            waiting.addFirst(newest);
            metrics.preempted();
            if (newest == s) {
                return false;
            }
        }
        return true;
    }

    /** Ends the sequences the output thread stopped (a stop string) or failed, and those their clients cancelled. */
    private void dropEnded() {
        for (Sequence s : Stream.concat(waiting.stream(), running.stream()).toList()) {
            if (s.outputFailure != null) {
                metrics.failed(s.outputFailure);
                end(s, null);
            } else if (s.stopped) {
                end(s, FinishReason.STOP);
            } else if (s.stream.isCancelled()) {
                end(s, FinishReason.CANCELLED);
            }
        }
    }

    /** Hands one sampled token to the output thread and ends the sequence on a stop id, max tokens or the context end. */
    private void accept(Sequence s, Sampler.Choice choice) {
        long now = System.nanoTime();
        s.generated++;
        if (s.generated == 1) {
            metrics.firstToken(Duration.ofNanos(now - s.submittedNanos));
        } else {
            metrics.interToken(Duration.ofNanos(now - s.lastTokenNanos));
        }
        s.lastTokenNanos = now;
        s.append(choice.id());
        boolean stopId = !s.params.ignoreEos() && stopIds.contains(choice.id());
        boolean closed = s.constraint != null && s.constraint.finished();
        boolean atLimit = s.generated >= s.params.maxTokens() || s.length >= maxContext;
        output.token(s, choice, now, stopId, atLimit || closed);
        if (stopId || closed) {
            end(s, FinishReason.STOP);
        } else if (atLimit) {
            end(s, FinishReason.LENGTH);
        }
    }

    /**
     * Frees the blocks and the permit, then hands the end to the output thread, so a caller that saw the end finds
     * them free.
     *
     * @param reason why it ended; null for a failure (the output thread's own, or {@code failure})
     */
    private void end(Sequence s, FinishReason reason) {
        end(s, reason, null);
    }

    private void end(Sequence s, FinishReason reason, Throwable failure) {
        waiting.remove(s);
        running.remove(s);
        kv.release(s.blocks);
        s.sampler.close();
        kvStats = kv.stats();
        ended.accept(s);
        if (failure != null) {
            output.fail(s, failure);
        } else {
            output.end(s, reason, System.nanoTime());
        }
    }
}
