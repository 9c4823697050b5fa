package io.resident.engine;

import io.resident.engine.GenerationEvent.Error;
import io.resident.kv.KvCacheManager;
import io.resident.grammar.Constraint;
import io.resident.grammar.TokenTrie;
import io.resident.model.CausalLM;
import io.resident.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Generates replies for many requests at once with one resident model (continuous batching).
 *
 * <p>One platform thread, "resident-engine", owns the model; callers (virtual threads) {@link #submit} a request
 * and read its {@link TokenStream}. A request first takes a batch slot from a fair semaphore with
 * {@link EngineOptions#maxBatch()} permits, the one count of sequences the engine holds; when none frees up within
 * {@link EngineOptions#maxWait()}, or {@link EngineOptions#maxWaiting()} requests are already waiting, it is turned
 * away with {@link EngineBusyException}. The slot is given back when the reply ends, is cancelled, or fails. KV-cache
 * blocks are the scheduler's ({@link io.resident.kv.KvCacheManager}): a sequence gets them as it runs.
 *
 * <p>An exception inside a step fails that step's requests only. An error that stops the engine thread kills the
 * engine: every open stream gets an Error event, {@link #health()} reports {@link State#DEAD} and later submissions
 * fail. The engine does not close the model.
 */
public final class Engine implements AutoCloseable {

    /** Where the engine is in its life. */
    public enum State {
        /** Admitting and generating. */
        RUNNING,
        /** Finishing the replies it has; admitting none. */
        DRAINING,
        /** Closed. */
        STOPPED,
        /** The engine thread died of an unexpected error. */
        DEAD
    }

    /**
     * For the liveness probe.
     *
     * @param state           the engine's state
     * @param threadAlive     whether the engine thread still runs
     * @param sinceHeartbeat  since the engine thread last went round its loop (at least once a second when idle)
     * @param failure         what killed the engine, null unless dead
     */
    public record Health(State state, boolean threadAlive, Duration sinceHeartbeat, Throwable failure) {

        /** Alive, not dead, and heard from within {@code maxSilence} (a step longer than that counts as stuck). */
        public boolean live(Duration maxSilence) {
            return threadAlive && state != State.DEAD && sinceHeartbeat.compareTo(maxSilence) <= 0;
        }
    }

    /**
     * A snapshot for gauges.
     *
     * @param slots        batch slots (RESIDENT_MAX_BATCH), the most replies generated at once
     * @param running      requests holding a slot
     * @param waiting      requests waiting for a slot
     * @param kvBlocksUsed KV-cache blocks held by running requests (idle cached blocks are free to take)
     * @param kvBlocks     KV-cache blocks in the pool
     */
    public record Stats(int slots, int running, int waiting, int kvBlocksUsed, int kvBlocks) {}

    private static final Logger LOG = Logger.getLogger(Engine.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);
    /** How long a drain waits for cancelled replies to be let go at the next step. */
    private static final Duration CANCEL_GRACE = Duration.ofSeconds(30);

    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final EngineMetrics metrics;
    private final Semaphore slots;
    private final int maxContext;
    private final AtomicInteger waiting = new AtomicInteger();
    private final Set<Sequence> live = ConcurrentHashMap.newKeySet();
    private final Scheduler scheduler;
    private final Thread thread;
    private final Object lifecycle = new Object();
    private State state = State.RUNNING;
    private Throwable failure;
    private TokenTrie tokenTrie;
    /** The engine's generator, which seeds the generator of every request without a seed (thread-safe). */
    private final Random seeds = new Random();

    /** Starts the engine thread. The model and tokenizer stay the caller's to close, after this engine. */
    public Engine(CausalLM model, Tokenizer tokenizer, EngineOptions options, EngineMetrics metrics) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.metrics = metrics;
        this.slots = new Semaphore(options.maxBatch(), true);
        this.maxContext = Math.min(model.maxContext(), model.blocks() * model.blockSize());
        this.scheduler = new Scheduler(model, new KvCacheManager(model.blocks(), model.blockSize(), options.prefixCache()),
                maxContext, tokenizer.stopIds(), options.prefillChunk(), options.maxStepTokens(), metrics, this::ended,
                this::died);
        this.thread = Thread.ofPlatform().name("resident-engine").daemon(true).start(scheduler);
    }

    /** With {@link EngineOptions#defaults()} and no metrics. */
    public Engine(CausalLM model, Tokenizer tokenizer) {
        this(model, tokenizer, EngineOptions.defaults(), EngineMetrics.NONE);
    }

    /**
     * Queues a request and returns its stream once it holds a slot, blocking while all slots are taken.
     *
     * @throws IllegalArgumentException a prompt that leaves no room in the context, or an id outside the vocabulary
     * @throws EngineBusyException      no slot within the bounded wait, too many waiting, or draining
     * @throws IllegalStateException    the engine is closed or dead
     * @throws InterruptedException     the caller was interrupted while waiting for a slot
     */
    public TokenStream submit(GenerationRequest request) throws InterruptedException {
        long submitted = System.nanoTime();
        int[] prompt = request.promptIds();
        validate(prompt);
        checkAdmitting();
        acquireSlot();
        Constraint constraint = request.params().grammar() == null ? null
                : new Constraint(request.params().grammar(), tokenTrie(),
                        Math.min(request.params().maxTokens(), maxContext - prompt.length));
        Sequence sequence = new Sequence(prompt, request.params(), new TokenStream(scheduler::wake),
                tokenizer.streamDecoder(), constraint, seeds, submitted);
        synchronized (lifecycle) {
            if (state != State.RUNNING) {
                slots.release();
                checkAdmitting();
            }
            live.add(sequence);
            scheduler.admit(sequence);
        }
        metrics.admitted(Duration.ofNanos(System.nanoTime() - submitted));
        return sequence.stream;
    }

    /** Submits and reads the whole reply (warm-up, tests, non-streaming callers). */
    public Generation generate(GenerationRequest request) throws InterruptedException {
        return submit(request).collect();
    }

    /**
     * Stops admitting (new and waiting requests are busy), waits up to {@code timeout} for the running replies to
     * finish, then cancels those left.
     *
     * @return true when every reply finished on its own within the timeout
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        synchronized (lifecycle) {
            if (state == State.RUNNING) {
                state = State.DRAINING;
                // nothing is admitted from now on, so permits no longer count slots: these wake every waiting
                // request at once, to find the engine draining and be answered busy
                slots.release(options.maxWaiting());
            }
            boolean finished = awaitNoneLive(timeout);
            if (!finished) {
                live.forEach(s -> s.stream.cancel());
                awaitNoneLive(CANCEL_GRACE);
            }
            return finished;
        }
    }

    /** Drains without waiting (running replies end cancelled) and stops the engine thread. */
    @Override
    public void close() {
        try {
            drain(Duration.ZERO);
            scheduler.stop();
            thread.join(CANCEL_GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lifecycle) {
            if (state != State.DEAD) {
                state = State.STOPPED;
            }
        }
    }

    public Health health() {
        synchronized (lifecycle) {
            return new Health(state, thread.isAlive(),
                    Duration.ofNanos(System.nanoTime() - scheduler.heartbeatNanos()), failure);
        }
    }

    public Stats stats() {
        KvCacheManager.Stats kv = scheduler.kvStats();
        return new Stats(options.maxBatch(), live.size(), waiting.get(), kv.used(), kv.blocks());
    }

    /** Where the engine thread's time went since it started: as of now while it waits for work, else as of its last loop. */
    public EngineProfile profile() {
        return scheduler.profile();
    }

    /** Batch slots: the most replies generated at once. */
    public int slots() {
        return options.maxBatch();
    }

    /** Prompt plus reply can be at most this long: the model's context, within the KV-cache pool. */
    public int maxContext() {
        return maxContext;
    }

    /** Checks the KV-cache pool and prefix-cache index against the live sequences, on the engine thread. */
    void verifyKvCache() throws InterruptedException, ExecutionException {
        scheduler.verifyKvCache().get();
    }

    /** The vocabulary's trie for constrained output, built at the first request that needs it. */
    public synchronized TokenTrie tokenTrie() {
        if (tokenTrie == null) {
            tokenTrie = new TokenTrie(tokenizer, model.config().vocabSize());
        }
        return tokenTrie;
    }

    /** Token ids the model knows: 0 up to this, exclusive. */
    public int vocabSize() {
        return model.config().vocabSize();
    }

    private void validate(int[] prompt) {
        if (prompt.length >= maxContext) {
            throw new IllegalArgumentException("the prompt has " + prompt.length
                    + " tokens; the context holds " + maxContext + ", so at most " + (maxContext - 1)
                    + " leave room for a reply");
        }
        int vocab = model.config().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    private void checkAdmitting() {
        synchronized (lifecycle) {
            switch (state) {
                case RUNNING -> {}
                case DRAINING -> throw busy("the engine is draining and admits no new requests");
                case STOPPED -> throw new IllegalStateException("the engine is closed");
                case DEAD -> throw new IllegalStateException("the engine died: " + failure, failure);
            }
        }
    }

    /** Takes a slot permit in arrival order, waiting within the bounds of the options. */
    private void acquireSlot() throws InterruptedException {
        if (slots.tryAcquire(0, TimeUnit.NANOSECONDS)) {
            return;
        }
        if (waiting.incrementAndGet() > options.maxWaiting()) {
            waiting.decrementAndGet();
            throw busy("all " + options.maxBatch() + " slots are in use and " + options.maxWaiting()
                    + " requests are already waiting");
        }
        try {
            if (!slots.tryAcquire(options.maxWait().toNanos(), TimeUnit.NANOSECONDS)) {
                throw busy("no slot freed up within " + options.maxWait());
            }
        } finally {
            waiting.decrementAndGet();
        }
    }

    private EngineBusyException busy(String message) {
        metrics.rejected();
        return new EngineBusyException(message, RETRY_AFTER);
    }

    /** Waits on the lifecycle monitor (held) until no request holds a slot. */
    private boolean awaitNoneLive(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!live.isEmpty() && thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(lifecycle, left);
        }
        return live.isEmpty();
    }

    private void ended(Sequence sequence) {
        if (live.remove(sequence)) {
            slots.release();
        }
        synchronized (lifecycle) {
            lifecycle.notifyAll();
        }
    }

    private void died(Throwable cause) {
        LOG.error("The engine thread died; every open reply fails and the engine admits nothing more", cause);
        synchronized (lifecycle) {
            state = State.DEAD;
            failure = cause;
        }
        for (Sequence sequence : live) {
            if (live.remove(sequence)) {
                slots.release();
                metrics.failed(cause);
                sequence.stream.emit(new Error(cause));
            }
        }
        synchronized (lifecycle) {
            lifecycle.notifyAll();
        }
    }
}
