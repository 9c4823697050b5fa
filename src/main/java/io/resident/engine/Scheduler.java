package io.resident.engine;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
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
 * admitted sequences, drop cancelled ones, then one {@link CausalLM#step} call holding one decode token for every
 * running sequence and up to {@code prefillChunk} tokens of the sequences still prefilling (oldest first, then
 * waiting ones as blocks allow, their cached prefix skipped), then sampling and stop checks (a constrained output
 * also ends where its grammar does). When a running sequence needs a block and none is left, the newest running
 * sequence is preempted: its blocks go back and it waits to be recomputed (prompt and generated tokens, as one
 * prompt). A sequence's blocks are free again the step it ends. An
 * exception inside a step fails that step's sequences only. Idle, the thread blocks on its inbox.
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
    private final EngineMetrics metrics;
    private final Consumer<Sequence> ended;
    private final Consumer<Throwable> died;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    /** Sequences without blocks: newly admitted, or preempted (at the front), in the order they get blocks. */
    private final Deque<Sequence> waiting = new ArrayDeque<>();
    /** Sequences holding blocks, oldest first: the last is the one preempted when blocks run out. */
    private final List<Sequence> running = new ArrayList<>();
    private boolean stopRequested;

    private volatile long heartbeatNanos = System.nanoTime();
    private volatile KvCacheManager.Stats kvStats;

    /**
     * @param maxContext the longest sequence, at most the pool's positions
     * @param ended      called on the engine thread once a sequence's blocks are free, just before its last event
     * @param died       called on the engine thread when an unexpected error ends the loop
     */
    Scheduler(CausalLM model, KvCacheManager kv, int maxContext, Set<Integer> stopIds, int prefillChunk,
            EngineMetrics metrics, Consumer<Sequence> ended, Consumer<Throwable> died) {
        this.model = model;
        this.kv = kv;
        this.maxContext = maxContext;
        this.stopIds = Set.copyOf(stopIds);
        this.prefillChunk = prefillChunk;
        this.metrics = metrics;
        this.ended = ended;
        this.died = died;
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

    @Override
    public void run() {
        try {
            while (!(stopRequested && idle())) {
                heartbeatNanos = System.nanoTime();
                Runnable command = idle() ? inbox.poll(HEARTBEAT.toNanos(), TimeUnit.NANOSECONDS) : inbox.poll();
                for (; command != null; command = inbox.poll()) {
                    command.run();
                }
                if (!idle()) {
                    step();
                }
                kvStats = kv.stats();
            }
        } catch (Throwable t) {
            died.accept(t);
        }
    }

    private boolean idle() {
        return waiting.isEmpty() && running.isEmpty();
    }

    private void step() {
        dropCancelled();
        List<Segment> segments = new ArrayList<>();
        List<Sequence> batch = new ArrayList<>();
        int budget = prefillChunk;
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            boolean decoding = s.pending() == 1 && s.cached >= s.prompt.length;
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
            List<Scores> scores = model.step(segments);
            for (int row = 0; row < batch.size(); row++) {
                Sequence s = batch.get(row);
                s.cached += segments.get(row).tokens().length;
                kv.indexFull(s.blocks, s.tokens, s.cached);
                if (s.pending() == 0) {
                    if (s.generated == 0) {
                        metrics.prefilled(s.prompt.length);
                    }
                    accept(s, s.sampler.next(scores.get(row)));
                }
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.errorf(e, "A step of %d sequences failed; they fail, the engine goes on", batch.size());
            for (Sequence s : batch) {
                if (running.contains(s)) {
                    metrics.failed(e);
                    end(s, new Error(e));
                }
            }
        }
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

    private void dropCancelled() {
        for (Sequence s : Stream.concat(waiting.stream(), running.stream()).toList()) {
            if (s.stream.isCancelled()) {
                finish(s, FinishReason.CANCELLED, "");
            }
        }
    }

    /** Emits one sampled token and ends the sequence on a stop id, a stop string, max tokens or the context end. */
    private void accept(Sequence s, Sampler.Choice choice) {
        long now = System.nanoTime();
        s.generated++;
        if (s.generated == 1) {
            s.firstTokenNanos = now;
            metrics.firstToken(Duration.ofNanos(now - s.submittedNanos));
        } else {
            metrics.interToken(Duration.ofNanos(now - s.lastTokenNanos));
        }
        s.lastTokenNanos = now;
        s.append(choice.id());
        if (!s.params.ignoreEos() && stopIds.contains(choice.id())) {
            finish(s, FinishReason.STOP, heldText(s));
            return;
        }
        String text = s.stops.push(s.decoder.push(choice.id()));
        boolean closed = s.constraint != null && s.constraint.finished();
        boolean atLimit = s.generated >= s.params.maxTokens() || s.length >= maxContext;
        if ((atLimit || closed) && !s.stops.stopped()) {
            text += heldText(s);
        }
        s.stream.emit(new Token(choice.id(), text, choice.logprob(), choice.top()));
        if (s.stops.stopped() || closed) {
            finish(s, FinishReason.STOP, "");
        } else if (atLimit) {
            finish(s, FinishReason.LENGTH, "");
        }
    }

    /** The text still held back at the end of a reply: the decoder's unfinished bytes and any unfinished stop prefix. */
    private static String heldText(Sequence s) {
        String text = s.stops.push(s.decoder.flush());
        return s.stops.stopped() ? text : text + s.stops.flush();
    }

    private void finish(Sequence s, FinishReason reason, String tail) {
        long now = System.nanoTime();
        double decodeSeconds = (s.lastTokenNanos - s.firstTokenNanos) / 1e9;
        metrics.finished(reason, Duration.ofNanos(now - s.submittedNanos));
        end(s, new Done(
                reason,
                tail,
                s.prompt.length,
                Math.max(0, s.cachedPromptTokens),
                s.generated,
                s.generated == 0 ? Duration.ZERO : Duration.ofNanos(s.firstTokenNanos - s.submittedNanos),
                Duration.ofNanos(now - s.submittedNanos),
                s.generated < 2 ? 0 : (s.generated - 1) / decodeSeconds));
    }

    /** Frees the blocks and the permit before the last event, so a caller that saw the end finds them free. */
    private void end(Sequence s, GenerationEvent last) {
        waiting.remove(s);
        running.remove(s);
        kv.release(s.blocks);
        s.sampler.close();
        kvStats = kv.stats();
        ended.accept(s);
        s.stream.emit(last);
    }
}
