package io.resident.model;

/**
 * One sequence's ids as the device sampler's penalties read them: a row of counts of its generated ids and a row of
 * its prompt's ids, both on the device, filled at its first pick and kept up to date by every pick after. Made by the
 * engine with the sequence; closed by the engine thread when the sequence ends, which frees the rows.
 */
public final class TokenHistory implements AutoCloseable {

    /** The prompt's ids, uploaded once at the first pick; empty when only generated ids count. */
    final int[] prompt;
    /** The rows of the sampler's buffers this history holds, -1 before its first pick. */
    int row = -1;
    DeviceSampler owner;

    /** @param prompt the ids the repetition penalty counts besides the generated ones (empty for none) */
    public TokenHistory(int[] prompt) {
        this.prompt = prompt.clone();
    }

    @Override
    public void close() {
        if (owner != null) {
            owner.release(this);
            owner = null;
        }
    }
}
