package io.resident.grammar;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One reply's progress through its grammar, for the engine: which token ids may come next, and whether the output
 * is complete. After each token the next mask is computed on a mask thread (unless cached), so it overlaps the
 * model's next forward pass instead of lengthening the engine's step. Used by one thread (the engine's).
 */
public final class Constraint {

    private static final ExecutorService MASKS = Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
            Thread.ofPlatform().name("resident-masks-", 0).daemon(true).factory());

    private final TokenTrie trie;
    private Pos pos;
    private CompletableFuture<TokenTrie.Mask> mask;
    private boolean finished;

    public Constraint(Grammar grammar, TokenTrie trie) {
        this.trie = trie;
        this.pos = grammar.start();
        this.mask = maskOf(pos);
    }

    /**
     * The ids allowed at this step, one bit each over the model's vocabulary ({@code allowed[id >>> 6] >>> id & 1}).
     * Never empty: where the output may end, the tokenizer's stop ids are allowed. Do not modify.
     */
    public long[] allowed() {
        return mask.join().allowed();
    }

    /**
     * Moves past the chosen token, which must be allowed.
     *
     * @throws IllegalArgumentException a token the grammar does not allow here
     */
    public void advance(int id) {
        if (finished) {
            throw new IllegalStateException("the constrained output is complete");
        }
        TokenTrie.Mask current = mask.join();
        if ((current.allowed()[id >>> 6] >>> id & 1) == 0) {
            throw new IllegalArgumentException("token " + id + " is not allowed here");
        }
        if (trie.isStop(id)) {
            finished = true;
            return;
        }
        for (byte b : trie.bytes(id)) {
            pos = pos.feed(b & 0xFF);
        }
        mask = maskOf(pos);
        finished = pos.canEnd() && mask.join().closed();
    }

    /** Whether the output is complete: a stop id was chosen, or nothing can follow the last token. */
    public boolean finished() {
        return finished;
    }

    private CompletableFuture<TokenTrie.Mask> maskOf(Pos p) {
        TokenTrie.Mask cached = trie.cached(p);
        return cached != null ? CompletableFuture.completedFuture(cached)
                : CompletableFuture.supplyAsync(() -> trie.mask(p), MASKS);
    }
}
