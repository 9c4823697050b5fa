package io.resident.engine;

import io.resident.kv.BlockTable;
import io.resident.grammar.Constraint;
import io.resident.tokenizer.StreamDecoder;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * One admitted request as the scheduler tracks it. Its fields are the engine thread's, except the decoder, the stop
 * strings and the output counts, which are the output thread's, and the two marks the output thread leaves for the
 * engine.
 */
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
    /** Its KV-cache blocks; empty while it waits for its first chunk or after a preemption. */
    final BlockTable blocks = new BlockTable();

    /** The prompt, then the generated ids; the first {@link #length} are valid. */
    int[] tokens;
    int length;
    /** Positions of {@link #tokens} already in the KV cache; the rest run at the next steps. */
    int cached;
    /** Prompt tokens whose keys and values came from the prefix cache when it was first admitted; -1 before. */
    int cachedPromptTokens = -1;
    int generated;
    long lastTokenNanos;
    /** Set by the output thread when a stop string appeared: the engine ends the sequence at its next step. */
    volatile boolean stopped;
    /** Set by the output thread when processing its output failed: the engine ends it with an Error. */
    volatile RuntimeException outputFailure;
    /** Tokens the output thread counted (those after a stop string are not) and when the first and last were chosen. */
    int outputTokens;
    long outputFirstNanos;
    long outputLastNanos;

    /** @param seeds where a request without a seed draws its generator's seed */
    Sequence(int[] prompt, SamplingParams params, TokenStream stream, StreamDecoder decoder, Constraint constraint,
            RandomGenerator seeds, long submittedNanos) {
        this.prompt = prompt;
        this.params = params;
        this.stream = stream;
        this.constraint = constraint;
        this.sampler = new Sampler(params, prompt, constraint, seeds);
        this.decoder = decoder;
        this.stops = new StopStrings(params.stop());
        this.submittedNanos = submittedNanos;
        this.tokens = Arrays.copyOf(prompt, prompt.length + 16);
        this.length = prompt.length;
    }

    /** Tokens not in the KV cache yet: the prompt's rest while prefilling, the last sampled one while decoding. */
    int pending() {
        return length - cached;
    }

    void append(int id) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, length * 2);
        }
        tokens[length++] = id;
    }
}
