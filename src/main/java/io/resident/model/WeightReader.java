package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Where a family's weights come from: a checkpoint on disk or seeded random values. */
interface WeightReader {

    /** The tensor in the dtype and on the device the model computes with; shape is what config.json implies. */
    NDArray read(String name, long... shape);

    /** The manager that owns the model's arrays. */
    NDManager manager();
}
