package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Reads checkpoint tensors one at a time from their mapped bytes into the compute dtype, so the host never
 * holds more than one tensor's temporaries. bfloat16 is widened to float32 here (its bits are the upper half
 * of a float32), because DJL's PyTorch engine has no bfloat16 type.
 */
final class CheckpointWeights implements WeightReader {

    private static final Logger LOG = Logger.getLogger(CheckpointWeights.class);
    private static final float FLOAT16_MAX = 65504f;
    /** Elements widened per step: bounds the direct-memory scratch at 64 MiB whatever the tensor's size. */
    private static final int WIDEN_CHUNK = 16 << 20;

    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final DataType compute;
    private ByteBuffer scratch;

    CheckpointWeights(Checkpoint checkpoint, NDManager manager, DataType compute) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.compute = compute;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public NDArray read(String name, long... shape) {
        Safetensors.Entry entry = checkpoint.entry(name);
        if (!Arrays.equals(entry.shape(), shape)) {
            throw new ModelLoadException("tensor " + name + " has shape " + Arrays.toString(entry.shape())
                    + " but config.json implies " + Arrays.toString(shape));
        }
        ByteBuffer bytes = checkpoint.map(entry);
        return switch (entry.dtype()) {
            case "F16" -> fromMapping(bytes, shape, DataType.FLOAT16, name);
            case "F32" -> fromMapping(bytes, shape, DataType.FLOAT32, name);
            default -> inComputeType(widenBfloat16(bytes, shape), name);
        };
    }

    /**
     * The tensor's own copy of its mapped bytes in the compute dtype. On the CPU an array made from a buffer
     * aliases it, and so does torch's conversion to the same dtype; the JVM unmaps a mapped buffer once it is
     * collected, so an alias kept past loading would crash the process at the next forward pass.
     */
    private NDArray fromMapping(ByteBuffer bytes, long[] shape, DataType stored, String name) {
        try (NDArray raw = manager.create(bytes, new Shape(shape), stored)) {
            DataType target = target(raw, name);
            return target == stored ? raw.duplicate() : NativeOps.toType(raw, target, true);
        }
    }

    /** An array of the loader's own in the compute dtype (itself when it has that dtype already). */
    private NDArray inComputeType(NDArray owned, String name) {
        DataType target = target(owned, name);
        if (target == owned.getDataType()) {
            return owned;
        }
        try (owned) {
            return NativeOps.toType(owned, target, true);
        }
    }

    /** The compute dtype, or float32 for a float32 tensor beyond float16's range. */
    private DataType target(NDArray tensor, String name) {
        if (compute == DataType.FLOAT16 && tensor.getDataType() == DataType.FLOAT32) {
            float max = tensor.abs().max().getFloat();
            if (max > FLOAT16_MAX) {
                LOG.infof("tensor %s reaches %g, beyond float16's range: it stays float32", name, max);
                return DataType.FLOAT32;
            }
        }
        return compute;
    }

    /** float32 values of bfloat16 bytes, in chunks through a reused scratch buffer; the result owns its memory. */
    private NDArray widenBfloat16(ByteBuffer bytes, long[] shape) {
        long elements = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        long rowElements = shape.length > 1 ? elements / shape[0] : elements;
        long rowsPerChunk = Math.max(1, WIDEN_CHUNK / rowElements);
        long rows = shape.length > 1 ? shape[0] : 1;
        ShortBuffer source = bytes.asShortBuffer();
        List<NDArray> chunks = new ArrayList<>();
        for (long row = 0; row < rows; row += rowsPerChunk) {
            long chunkRows = Math.min(rowsPerChunk, rows - row);
            int count = Math.toIntExact(chunkRows * rowElements);
            IntBuffer widened = scratch(count).asIntBuffer();
            int offset = Math.toIntExact(row * rowElements);
            for (int i = 0; i < count; i++) {
                widened.put(i, source.get(offset + i) << 16);
            }
            long[] chunkShape = shape.clone();
            if (shape.length > 1) {
                chunkShape[0] = chunkRows;
            }
            ByteBuffer data = scratch.slice(0, count * 4).order(ByteOrder.nativeOrder());
            try (NDArray alias = manager.create(data, new Shape(chunkShape), DataType.FLOAT32)) {
                chunks.add(alias.duplicate()); // a copy of its own: the scratch is reused
            }
        }
        if (chunks.size() == 1) {
            return chunks.get(0);
        }
        try (NDList parts = new NDList(chunks)) {
            return NDArrays.concat(parts, 0);
        }
    }

    private ByteBuffer scratch(int elements) {
        if (scratch == null || scratch.capacity() < elements * 4) {
            scratch = ByteBuffer.allocateDirect(Math.max(elements, 1 << 16) * 4).order(ByteOrder.nativeOrder());
        }
        return scratch;
    }
}
