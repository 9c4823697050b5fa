package io.resident.engine;

import io.resident.grammar.Constraint;
import io.resident.tokenizer.StreamDecoder;

/** One admitted request as the scheduler tracks it. Its fields are touched by the engine thread only. */
final class Sequence {

    final int[] prompt;
    final SamplingParams params;
    final TokenStream stream;
    final Sampler sampler;
    final StreamDecoder decoder;
    final StopStrings stops;
    /** The grammar's progress when the output is constrained, else null. */
    final Constraint constraint;
    final long submittedNanos;

    /** The KV-cache slot, -1 while it has none. */
    int slot = -1;
    /** Positions of this sequence already in its slot's KV cache. */
    int cached;
    int generated;
    /** The last sampled token, fed to the model at the next step. */
    int lastToken;
    long firstTokenNanos;
    long lastTokenNanos;

    Sequence(int[] prompt, SamplingParams params, TokenStream stream, StreamDecoder decoder, Constraint constraint,
            long submittedNanos) {
        this.prompt = prompt;
        this.params = params;
        this.stream = stream;
        this.constraint = constraint;
        this.sampler = new Sampler(params, prompt, constraint);
        this.decoder = decoder;
        this.stops = new StopStrings(params.stop());
        this.submittedNanos = submittedNanos;
    }

    /** The whole prompt is in the cache (afterwards each step appends one generated token). */
    boolean prefilled() {
        return cached >= prompt.length;
    }
}
