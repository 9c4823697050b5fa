package io.resident.bench;

import static io.resident.bench.LoadStats.round;

import io.resident.engine.Engine;
import io.resident.engine.EngineProfile;
import io.resident.engine.FinishReason;
import io.resident.engine.GenerationEvent.Done;
import io.resident.engine.GenerationEvent.Error;
import io.resident.engine.GenerationEvent.Token;
import io.resident.engine.GenerationRequest;
import io.resident.engine.SamplingParams;
import io.resident.engine.TokenStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;

/**
 * Decoding streams while long prompts prefill, through the engine: D streams of short prompts decode (greedy,
 * ignore_eos, no end of their own); once every one has its first token, D prompts of L tokens arrive at once. The
 * window runs from that arrival until the last of them has its first token; the decoding streams' inter-token latency
 * in it (the gaps between their tokens' arrivals at their readers) is set against the plain decode step, measured the
 * same way with no arrivals over a fixed number of tokens of every stream. The decoding streams are cancelled once
 * the window closes, so a stream that ends cancelled was still decoding when the last prompt had its first token.
 */
final class Interference {

    private final Engine engine;
    private final int streamPrompt;
    private final int plainTokens;
    private final IntFunction<int[]> prompts;

    /**
     * @param streamPrompt each decoding stream's prompt tokens
     * @param plainTokens  tokens of every stream in the plain window
     * @param prompts      a prompt of so many random ids
     */
    Interference(Engine engine, int streamPrompt, int plainTokens, IntFunction<int[]> prompts) {
        this.engine = engine;
        this.streamPrompt = streamPrompt;
        this.plainTokens = plainTokens;
        this.prompts = prompts;
    }

    /** The plain window, the window of the arriving prompts' prefill, and the ratios of their inter-token latencies. */
    @SuppressWarnings("unchecked")
    Map<String, Object> measure(int decoders, int promptTokens) throws Exception {
        Map<String, Object> plain = window(decoders, 0);
        Map<String, Object> during = window(decoders, promptTokens);
        Map<String, Object> plainItl = (Map<String, Object>) plain.get("itl_ms");
        Map<String, Object> duringItl = (Map<String, Object>) during.get("itl_ms");
        Map<String, Object> ratio = new LinkedHashMap<>();
        for (String key : List.of("p50", "p90", "p99", "max")) {
            if (plainItl.containsKey(key) && duringItl.containsKey(key)) {
                ratio.put(key, round((Double) duringItl.get(key) / (Double) plainItl.get(key)));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("decoding_streams", decoders);
        out.put("arriving_prompts", decoders);
        out.put("arriving_prompt_tokens", promptTokens);
        out.put("plain", plain);
        out.put("during_prefill", during);
        out.put("itl_ratio", ratio);
        return out;
    }

    /** One window: with arrivals of promptTokens each, or, for 0, plainTokens tokens of every decoding stream. */
    private Map<String, Object> window(int decoders, int promptTokens) throws Exception {
        SamplingParams endless = SamplingParams.builder().temperature(0).maxTokens(engine.maxContext() - streamPrompt - 1)
                .ignoreEos(true).build();
        SamplingParams firstToken = SamplingParams.builder().temperature(0).maxTokens(1).ignoreEos(true).build();
        List<int[]> arrivingPrompts = new ArrayList<>();
        for (int i = 0; promptTokens > 0 && i < decoders; i++) {
            arrivingPrompts.add(prompts.apply(promptTokens));
        }
        List<TimedStream> decoding = new ArrayList<>();
        List<TimedStream> arriving = new ArrayList<>();
        long open;
        long close;
        EngineProfile profile;
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                for (int i = 0; i < decoders; i++) {
                    decoding.add(TimedStream.read(engine.submit(new GenerationRequest(prompts.apply(streamPrompt), endless)), readers));
                }
                for (TimedStream s : decoding) {
                    s.arrival(1);
                }
                open = System.nanoTime();
                EngineProfile before = engine.profile();
                int[] atOpen = decoding.stream().mapToInt(TimedStream::count).toArray();
                for (int[] prompt : arrivingPrompts) {
                    arriving.add(TimedStream.read(engine.submit(new GenerationRequest(prompt, firstToken)), readers));
                }
                close = open;
                for (int i = 0; i < decoders && arriving.isEmpty(); i++) {
                    close = Math.max(close, decoding.get(i).arrival(atOpen[i] + plainTokens));
                }
                for (TimedStream s : arriving) {
                    close = Math.max(close, s.arrival(1));
                }
                profile = engine.profile().since(before);
            } finally {
                decoding.forEach(s -> s.stream.cancel());
            }
        }
        List<Double> gaps = new ArrayList<>();
        for (TimedStream s : decoding) {
            long[] at = s.arrivals();
            for (int k = 1; k < at.length; k++) {
                if (at[k] > open && at[k] <= close) {
                    gaps.add((at[k] - at[k - 1]) / 1e6);
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("window_ms", round((close - open) / 1e6));
        out.put("gaps", gaps.size());
        out.put("itl_ms", distribution(gaps.stream().mapToDouble(Double::doubleValue).toArray()));
        // cancelled, not ended by their length: still decoding when the window closed
        out.put("decoding_streams_cancelled", count(decoding, FinishReason.CANCELLED));
        if (!arriving.isEmpty()) {
            out.put("arrivals_first_tokens", arriving.stream().mapToInt(TimedStream::count).sum());
            out.put("arrivals_ttft_ms", distribution(arriving.stream()
                    .mapToDouble(s -> s.done().timeToFirstToken().toNanos() / 1e6).toArray()));
        }
        out.put("engine_thread", ServingBenchmark.engineSplit(profile));
        return out;
    }

    private static long count(List<TimedStream> streams, FinishReason reason) {
        return streams.stream().filter(s -> s.done().reason() == reason).count();
    }

    /** mean, p50, p90, p99 and max; empty for no values. */
    private static Map<String, Object> distribution(double[] values) {
        Map<String, Object> out = LoadStats.distribution(values);
        if (values.length > 0) {
            out.put("max", round(java.util.Arrays.stream(values).max().orElseThrow()));
        }
        return out;
    }

    /** A stream read on its own virtual thread, with the time each token reached it. */
    private static final class TimedStream {

        final TokenStream stream;
        private final List<Long> arrivals = new ArrayList<>();
        private final CompletableFuture<Done> done = new CompletableFuture<>();

        private TimedStream(TokenStream stream) {
            this.stream = stream;
        }

        static TimedStream read(TokenStream stream, ExecutorService readers) {
            TimedStream timed = new TimedStream(stream);
            readers.submit(() -> {
                timed.read();
                return null;
            });
            return timed;
        }

        private void read() throws InterruptedException {
            while (true) {
                switch (stream.next()) {
                    case Token token -> arrived(System.nanoTime());
                    case Done end -> {
                        ended(end, null);
                        return;
                    }
                    case Error error -> {
                        ended(null, error.cause());
                        return;
                    }
                }
            }
        }

        private synchronized void arrived(long nanos) {
            arrivals.add(nanos);
            notifyAll();
        }

        private synchronized void ended(Done end, Throwable failure) {
            if (failure == null) {
                done.complete(end);
            } else {
                done.completeExceptionally(failure);
            }
            notifyAll();
        }

        /** When the n-th token arrived, waiting for it; fails where the stream ended before it. */
        synchronized long arrival(int n) throws InterruptedException {
            while (arrivals.size() < n) {
                if (done.isDone()) {
                    throw new IllegalStateException("a stream ended after " + arrivals.size() + " tokens, before token " + n);
                }
                wait();
            }
            return arrivals.get(n - 1);
        }

        synchronized int count() {
            return arrivals.size();
        }

        synchronized long[] arrivals() {
            return arrivals.stream().mapToLong(Long::longValue).toArray();
        }

        /** How it ended; after the readers are done. */
        Done done() {
            try {
                return done.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the stream failed: " + e.getCause(), e.getCause());
            }
        }
    }
}
