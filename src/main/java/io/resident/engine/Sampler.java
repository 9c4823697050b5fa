package io.resident.engine;

import io.resident.engine.GenerationEvent.Alternative;
import io.resident.grammar.Constraint;
import io.resident.model.CausalLM.Pick;
import io.resident.model.CausalLM.Picked;
import io.resident.model.CausalLM.Scores;
import io.resident.model.TokenHistory;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * One sequence's side of sampling, on the engine thread: it tells each step how the device picks the sequence's next
 * token ({@link Pick}: its settings, one uniform from the request's own generator, the grammar's mask, its ids on the
 * device for the penalties), then reads the choice back. The grammar's mask is asked for after the forward pass, so the
 * mask thread's work overlaps it. Greedy decoding without penalties, alternatives or a grammar
 * needs no pick: the step's argmax summary is the choice. Log-probabilities are the model's own (log-softmax of the raw
 * logits), as OpenAI reports them.
 */
final class Sampler implements AutoCloseable {

    /** The chosen token, its log-probability and the asked-for alternatives. */
    record Choice(int id, float logprob, List<Alternative> top) {}

    private static final RandomGeneratorFactory<RandomGenerator> RANDOMS = RandomGeneratorFactory.of("L64X128MixRandom");

    private final SamplingParams params;
    /** The request's own generator: one uniform a step, so a seeded reply is the same alone or batched. */
    private final RandomGenerator random;
    private final Constraint constraint;
    private final TokenHistory history;

    /**
     * @param unseeded   where a request without a seed draws its generator's seed (the engine's generator)
     * @param constraint the grammar's progress, null for free text
     */
    Sampler(SamplingParams params, int[] promptIds, Constraint constraint, RandomGenerator unseeded) {
        this.params = params;
        this.constraint = constraint;
        this.random = RANDOMS.create(params.seed() != null ? params.seed() : unseeded.nextLong());
        boolean penalties = params.repetitionPenalty() != 1 || params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
        this.history = !penalties ? null : new TokenHistory(params.repetitionPenalty() != 1 ? promptIds : new int[0]);
    }

    /** How the step picks this sequence's next token on the device; null where the greedy summary is the choice. */
    Pick pick() {
        if (params.greedy() && params.topLogprobs() == 0 && history == null && constraint == null) {
            return null;
        }
        float uniform = params.greedy() ? 0 : random.nextFloat();
        return new Pick((float) params.temperature(), params.topK(), (float) params.topP(), (float) params.minP(),
                (float) params.repetitionPenalty(), (float) params.presencePenalty(), (float) params.frequencyPenalty(),
                params.topLogprobs(), uniform, constraint == null ? null : constraint::allowed, history);
    }

    /** The step's choice for this sequence (its pick's, else the argmax); moves the grammar past it. */
    Choice next(Scores scores) {
        Picked picked = scores.picked();
        if (picked == null) {
            return new Choice(scores.argmax(), (float) (scores.maxLogit() - scores.logSumExp()), List.of());
        }
        if (constraint != null) {
            constraint.advance(picked.id());
        }
        List<Alternative> top = new ArrayList<>(picked.topIds().length);
        for (int i = 0; i < picked.topIds().length; i++) {
            top.add(new Alternative(picked.topIds()[i], picked.topLogprobs()[i]));
        }
        return new Choice(picked.id(), picked.logprob(), List.copyOf(top));
    }

    /** Frees the sequence's ids on the device; engine thread. */
    @Override
    public void close() {
        if (history != null) {
            history.close();
        }
    }
}
