package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Seeded random weights of a family's exact shapes, for the built-in demo model and for benchmarks: norms are
 * ones, everything else normal with standard deviation 0.02 (the usual initializer range).
 */
final class RandomWeights implements WeightReader {

    private final NDManager manager;
    private final DataType compute;

    RandomWeights(NDManager manager, DataType compute) {
        this.manager = manager;
        this.compute = compute;
    }

    @Override
    public NDArray read(String name, long... shape) {
        if (name.contains("norm")) {
            try (NDArray ones = manager.ones(new Shape(shape), DataType.FLOAT32)) {
                return NativeOps.toType(ones, compute, true);
            }
        }
        try (NDArray values = manager.randomNormal(0, 0.02f, new Shape(shape), DataType.FLOAT32)) {
            return NativeOps.toType(values, compute, true);
        }
    }

    @Override
    public NDManager manager() {
        return manager;
    }
}
