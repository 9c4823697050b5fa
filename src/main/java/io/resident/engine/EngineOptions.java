package io.resident.engine;

import java.time.Duration;

/**
 * How the engine admits and schedules requests.
 *
 * @param maxBatch     sequences the engine holds at once (RESIDENT_MAX_BATCH): the most decoded together
 * @param maxWaiting   requests that may wait for a free slot at once; one more is busy at once
 * @param maxWait      the longest a request waits for a slot before it is busy
 * @param prefillChunk  the most prompt tokens prefilled in one step: a long prompt is admitted in chunks so running
 *                      replies keep streaming
 * @param maxStepTokens the most tokens of one step while any sequence decodes (else a step takes one prefill chunk):
 *                      one decode token of every running sequence first, then prompt chunks, oldest first, in what
 *                      is left; at least maxBatch, so a prompt progresses every step
 * @param prefixCache   whether full KV-cache blocks are kept and reused by prompts that start with the same tokens
 */
public record EngineOptions(int maxBatch, int maxWaiting, Duration maxWait, int prefillChunk, int maxStepTokens,
        boolean prefixCache) {

    private static final int GPU_PREFILL_CHUNK = 2048;
    private static final int CPU_PREFILL_CHUNK = 256;
    /** On an H100 a 512-token chunk of ChatGLM3-6B costs about what a plain decode step does, so replies keep ~2x speed. */
    private static final int GPU_STEP_TOKENS = 512;
    private static final int CPU_STEP_TOKENS = 256;

    public EngineOptions {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, was " + maxBatch);
        }
        if (maxWaiting < 0) {
            throw new IllegalArgumentException("maxWaiting must be >= 0, was " + maxWaiting);
        }
        if (maxWait == null || maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must be >= 0, was " + maxWait);
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefillChunk must be >= 1, was " + prefillChunk);
        }
        if (maxStepTokens < maxBatch) {
            throw new IllegalArgumentException("maxStepTokens must be >= maxBatch (" + maxBatch + "), was " + maxStepTokens);
        }
    }

    /** A whole prefill chunk beside the decode of every running sequence: steps budgeted by the chunk alone. */
    public EngineOptions(int maxBatch, int maxWaiting, Duration maxWait, int prefillChunk, boolean prefixCache) {
        this(maxBatch, maxWaiting, maxWait, prefillChunk, prefillChunk + maxBatch, prefixCache);
    }

    /** The service's prefill chunk where RESIDENT_PREFILL_CHUNK is unset. */
    public static int defaultPrefillChunk(boolean gpu) {
        return gpu ? GPU_PREFILL_CHUNK : CPU_PREFILL_CHUNK;
    }

    /**
     * The service's step budget where RESIDENT_MAX_STEP_TOKENS is unset: by device, and at least twice the batch, so
     * that prompts keep half a step beside a full batch's decode.
     */
    public static int defaultMaxStepTokens(boolean gpu, int maxBatch) {
        return Math.max(gpu ? GPU_STEP_TOKENS : CPU_STEP_TOKENS, 2 * maxBatch);
    }

    /** 8 at once, 64 waiting, 30 s at most, 256-token prefill chunks, prefix caching. */
    public static EngineOptions defaults() {
        return new EngineOptions(8, 64, Duration.ofSeconds(30), 256, true);
    }
}
