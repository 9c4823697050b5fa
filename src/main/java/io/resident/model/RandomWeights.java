package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Seeded random weights of a family's exact shapes, for the built-in demo model and for benchmarks: norms are
 * ones, everything else normal with standard deviation 0.02 (the usual initializer range), the LM head's rows
 * multiplied by a scale per token when one is given.
 */
final class RandomWeights implements WeightReader {

    private final NDManager manager;
    private final DataType compute;
    private final float[] headRowScale;

    /** @param headRowScale one factor per row of an untied LM head, or null */
    RandomWeights(NDManager manager, DataType compute, float[] headRowScale) {
        this.manager = manager;
        this.compute = compute;
        this.headRowScale = headRowScale;
    }

    @Override
    public NDArray read(String name, long... shape) {
        if (name.contains("norm")) {
            try (NDArray ones = manager.ones(new Shape(shape), DataType.FLOAT32)) {
                return NativeOps.toType(ones, compute, true);
            }
        }
        try (NDArray values = manager.randomNormal(0, 0.02f, new Shape(shape), DataType.FLOAT32)) {
            if (headRowScale != null && name.equals("lm_head.weight")) {
                try (NDArray scale = manager.create(headRowScale).reshape(shape[0], 1)) {
                    values.muli(scale);
                }
            }
            return NativeOps.toType(values, compute, true);
        }
    }

    @Override
    public NDManager manager() {
        return manager;
    }
}
