package io.resident.grammar;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One reply's progress through its grammar, for the engine: which token ids may come next, and whether the output
 * is complete. After each token the next mask is computed on a mask thread (unless cached), so it overlaps the
 * model's next forward pass instead of lengthening the engine's step. The reply's token budget is followed too: once
 * a token could leave more bytes to write than tokens are left, only tokens that leave few enough are allowed, so the
 * output closes validly within max_tokens and the context (counting a byte a token, which every vocabulary can
 * write). Used by one thread (the engine's).
 */
public final class Constraint {

    private static final ExecutorService MASKS = Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
            Thread.ofPlatform().name("resident-masks-", 0).daemon(true).factory());

    private final TokenTrie trie;
    private Pos pos;
    private CompletableFuture<TokenTrie.Mask> mask;
    private boolean finished;
    /** Tokens the reply may still generate. */
    private int budget;

    /** @param budget the most tokens the reply may generate (max_tokens, or less where the context ends first) */
    public Constraint(Grammar grammar, TokenTrie trie, int budget) {
        this.trie = trie;
        this.pos = grammar.start();
        this.budget = budget;
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
        budget--;
        mask = maskOf(pos);
        finished = pos.canEnd() && (budget <= 0 || mask.join().closed());
    }

    /** Whether the output is complete: a stop id was chosen, or nothing can or may follow the last token. */
    public boolean finished() {
        return finished;
    }

    private CompletableFuture<TokenTrie.Mask> maskOf(Pos p) {
        int limit = budget - 1; // bytes the next token may leave to write
        TokenTrie.Mask cached = trie.cached(p);
        return cached != null && limit >= cached.longest() ? CompletableFuture.completedFuture(cached)
                : CompletableFuture.supplyAsync(() -> trie.mask(p, limit), MASKS);
    }
}
