package io.resident.engine;

import io.resident.model.CausalLM;
import io.resident.model.ModelConfig;
import java.util.List;

/** A real model with something done before each of its steps (recording it, failing, stalling). */
public abstract class ForwardingModel implements CausalLM {

    private final CausalLM model;

    protected ForwardingModel(CausalLM model) {
        this.model = model;
    }

    /** Called on the engine thread with each step's segments, before the model runs them. */
    protected abstract void beforeStep(List<Segment> segments);

    @Override
    public List<Scores> step(List<Segment> segments) {
        beforeStep(segments);
        return model.step(segments);
    }

    @Override
    public ModelConfig config() {
        return model.config();
    }

    @Override
    public int blocks() {
        return model.blocks();
    }

    @Override
    public void allocateCache(int blocks) {
        model.allocateCache(blocks);
    }

    @Override
    public int blockSize() {
        return model.blockSize();
    }

    @Override
    public int maxContext() {
        return model.maxContext();
    }

    @Override
    public long parameterCount() {
        return model.parameterCount();
    }

    @Override
    public Footprint footprint() {
        return model.footprint();
    }

    @Override
    public void close() {
        model.close();
    }
}
