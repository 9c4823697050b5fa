package io.resident.engine;

import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Token;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The engine thread's loop, the only code that calls the model. Each step: take newly admitted sequences, drop
 * cancelled ones, then one {@link CausalLM#forward} call holding one decode token for every running sequence and
 * up to {@code prefillChunk} prompt tokens of the sequences still prefilling (oldest first), then sampling and
 * stop checks (a constrained output also ends where its grammar does). A sequence's KV-cache slot is free again the
 * step it ends. Idle, the thread blocks on its inbox.
 */
final class Scheduler implements Runnable {

    /** How often an idle engine thread wakes to show it is alive. */
    static final Duration HEARTBEAT = Duration.ofSeconds(1);

    private final CausalLM model;
    private final Set<Integer> stopIds;
    private final int prefillChunk;
    private final EngineMetrics metrics;
    private final Consumer<Sequence> ended;
    private final Consumer<Throwable> died;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private final List<Sequence> prefilling = new ArrayList<>();
    private final List<Sequence> decoding = new ArrayList<>();
    private boolean stopRequested;

    private volatile long heartbeatNanos = System.nanoTime();
    private volatile long kvTokensUsed;

    /**
     * @param ended called on the engine thread once a sequence's slot is free, just before its end event
     * @param died  called on the engine thread when an unexpected error ends the loop
     */
    Scheduler(CausalLM model, Set<Integer> stopIds, int prefillChunk, EngineMetrics metrics,
            Consumer<Sequence> ended, Consumer<Throwable> died) {
        this.model = model;
        this.stopIds = Set.copyOf(stopIds);
        this.prefillChunk = prefillChunk;
        this.metrics = metrics;
        this.ended = ended;
        this.died = died;
        for (int slot = 0; slot < model.slots(); slot++) {
            freeSlots.add(slot);
        }
    }

    /** Hands an admitted sequence (its caller holds a slot permit) to the engine thread. */
    void admit(Sequence sequence) {
        inbox.add(() -> start(sequence));
    }

    /** Makes an idle engine thread look at its sequences now (a cancellation). */
    void wake() {
        inbox.add(() -> {});
    }

    /** Ends the loop once no sequence is left. */
    void stop() {
        inbox.add(() -> stopRequested = true);
    }

    long heartbeatNanos() {
        return heartbeatNanos;
    }

    long kvTokensUsed() {
        return kvTokensUsed;
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
                kvTokensUsed = kvTokens();
            }
        } catch (Throwable t) {
            died.accept(t);
        }
    }

    private boolean idle() {
        return prefilling.isEmpty() && decoding.isEmpty();
    }

    private void start(Sequence sequence) {
        Integer slot = freeSlots.poll();
        if (slot == null) {
            throw new IllegalStateException("a sequence was admitted with every KV-cache slot in use");
        }
        sequence.slot = slot;
        prefilling.add(sequence);
    }

    private void step() {
        dropCancelled();
        List<Segment> segments = new ArrayList<>();
        List<Sequence> batch = new ArrayList<>(decoding);
        for (Sequence s : batch) {
            segments.add(new Segment(s.slot, s.cached, new int[] {s.lastToken}, s.sampler.needsLogits()));
        }
        int budget = prefillChunk;
        for (int i = 0; i < prefilling.size() && budget > 0; i++) {
            Sequence s = prefilling.get(i);
            int n = Math.min(budget, s.prompt.length - s.cached);
            segments.add(new Segment(s.slot, s.cached, Arrays.copyOfRange(s.prompt, s.cached, s.cached + n), s.sampler.needsLogits()));
            batch.add(s);
            budget -= n;
        }
        if (segments.isEmpty()) {
            return;
        }
        List<Scores> scores = model.step(segments);
        for (int row = 0; row < batch.size(); row++) {
            Sequence s = batch.get(row);
            boolean prefilled = s.prefilled();
            s.cached += segments.get(row).tokens().length;
            if (!prefilled && s.prefilled()) {
                prefilling.remove(s);
                decoding.add(s);
                metrics.prefilled(s.prompt.length);
            }
            if (s.prefilled()) {
                accept(s, s.sampler.next(scores.get(row)));
            }
        }
    }

    private void dropCancelled() {
        for (Sequence s : List.copyOf(prefilling)) {
            if (s.stream.isCancelled()) {
                finish(s, FinishReason.CANCELLED, "");
            }
        }
        for (Sequence s : List.copyOf(decoding)) {
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
        s.lastToken = choice.id();
        if (!s.params.ignoreEos() && stopIds.contains(choice.id())) {
            finish(s, FinishReason.STOP, heldText(s));
            return;
        }
        String text = s.stops.push(s.decoder.push(choice.id()));
        boolean closed = s.constraint != null && s.constraint.finished();
        boolean atLimit = s.generated >= s.params.maxTokens() || s.prompt.length + s.generated >= model.maxContext();
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

    /** Frees the slot and its permit before the end event, so a caller that saw the end finds the slot free. */
    private void finish(Sequence s, FinishReason reason, String tail) {
        prefilling.remove(s);
        decoding.remove(s);
        freeSlots.add(s.slot);
        s.slot = -1;
        long now = System.nanoTime();
        double decodeSeconds = (s.lastTokenNanos - s.firstTokenNanos) / 1e9;
        metrics.finished(reason, Duration.ofNanos(now - s.submittedNanos));
        kvTokensUsed = kvTokens();
        ended.accept(s);
        s.stream.emit(new Done(
                reason,
                tail,
                s.prompt.length,
                s.generated,
                s.generated == 0 ? Duration.ZERO : Duration.ofNanos(s.firstTokenNanos - s.submittedNanos),
                Duration.ofNanos(now - s.submittedNanos),
                s.generated < 2 ? 0 : (s.generated - 1) / decodeSeconds));
    }

    private long kvTokens() {
        long used = 0;
        for (Sequence s : prefilling) {
            used += s.cached;
        }
        for (Sequence s : decoding) {
            used += s.cached;
        }
        return used;
    }
}
