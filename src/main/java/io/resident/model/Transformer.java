package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The decoder every family maps onto (llama2.c style): pre-norm RMSNorm blocks of fused-QKV attention with
 * rotate-half RoPE on the first rotaryDim dims of each head, grouped KV heads, and a SwiGLU MLP whose fused
 * gate/up matrix holds the gate rows first. The KV cache holds slots x maxContext positions per layer,
 * allocated once; a slot's rows are [slot * maxContext, (slot + 1) * maxContext).
 */
final class Transformer implements CausalLM {

    /** One block's weights, PyTorch layout [out, in]; qkvBias may be null. */
    record Layer(NDArray attnNorm, NDArray qkv, NDArray qkvBias, NDArray out, NDArray mlpNorm, NDArray gateUp, NDArray down) {}

    /** The whole model; lmHead is the embedding itself when tied. */
    record Weights(NDArray embedding, List<Layer> layers, NDArray finalNorm, NDArray lmHead) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final Weights weights;
    private final int slots;
    private final int maxContext;
    private final NDArray cos;
    private final NDArray sin;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final long parameters;

    Transformer(ModelConfig config, NDManager manager, DataType dtype, Weights weights, int slots, int maxContext) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.weights = weights;
        this.slots = slots;
        this.maxContext = maxContext;
        this.parameters = count(weights);
        float[][] tables = Rope.tables(config, maxContext);
        Shape tableShape = new Shape(maxContext, config.rotaryDim() / 2);
        cos = manager.create(tables[0], tableShape).toType(dtype, false);
        sin = manager.create(tables[1], tableShape).toType(dtype, false);
        keys = new NDArray[config.layers()];
        values = new NDArray[config.layers()];
        Shape cacheShape = new Shape((long) slots * maxContext, config.kvHeads(), config.headDim());
        for (int i = 0; i < config.layers(); i++) {
            keys[i] = manager.zeros(cacheShape, dtype);
            values[i] = manager.zeros(cacheShape, dtype);
        }
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public long parameterCount() {
        return parameters;
    }

    /** Multi-token segments (prefill chunks) run one at a time; all single-token segments run as one batch. */
    @Override
    public float[][] forward(List<Segment> segments) {
        validate(segments);
        float[][] logits = new float[segments.size()][];
        List<Integer> decode = new ArrayList<>();
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i).tokens().length == 1) {
                decode.add(i);
            } else {
                logits[i] = step(List.of(segments.get(i)))[0];
            }
        }
        if (!decode.isEmpty()) {
            float[][] rows = step(decode.stream().map(segments::get).toList());
            for (int j = 0; j < rows.length; j++) {
                logits[decode.get(j)] = rows[j];
            }
        }
        return logits;
    }

    private void validate(List<Segment> segments) {
        Set<Integer> seen = new HashSet<>();
        for (Segment s : segments) {
            if (s.slot() < 0 || s.slot() >= slots || !seen.add(s.slot())) {
                throw new IllegalArgumentException("slot " + s.slot() + " is out of range [0, " + slots + ") or given twice");
            }
            if (s.tokens().length == 0 || s.startPosition() < 0 || s.startPosition() + s.tokens().length > maxContext) {
                throw new IllegalArgumentException("segment of slot " + s.slot() + " at " + s.startPosition() + " with "
                        + s.tokens().length + " tokens does not fit the context of " + maxContext);
            }
            for (int id : s.tokens()) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
                }
            }
        }
    }

    /** B sequences of T tokens each (B = 1 for a prefill chunk, T = 1 for a decode batch). */
    private float[][] step(List<Segment> batch) {
        int b = batch.size();
        int t = batch.get(0).tokens().length;
        int n = b * t;
        int heads = config.heads(), kvHeads = config.kvHeads(), d = config.headDim();
        int group = heads / kvHeads;
        int length = batch.stream().mapToInt(s -> s.startPosition() + t).max().orElseThrow();
        long[] ids = new long[n], positions = new long[n], rows = new long[n], gather = new long[b * length];
        float[] mask = new float[b * t * length];
        for (int i = 0; i < b; i++) {
            Segment s = batch.get(i);
            long base = (long) s.slot() * maxContext;
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = s.tokens()[j];
                positions[i * t + j] = s.startPosition() + j;
                rows[i * t + j] = base + s.startPosition() + j;
                // causal: the token at position p sees cached positions 0..p of its own slot
                Arrays.fill(mask, (i * t + j) * length + s.startPosition() + j + 1, (i * t + j + 1) * length, Float.NEGATIVE_INFINITY);
            }
            for (int j = 0; j < length; j++) {
                gather[i * length + j] = base + j;
            }
        }
        try (NDManager m = manager.newSubManager()) {
            NDArray rowIndex = m.create(rows);
            NDArray gatherIndex = m.create(gather, new Shape(b, length));
            NDArray attnMask = m.create(mask, new Shape(b, 1, 1, t, length));
            NDArray positionIndex = m.create(positions);
            NDArray cosP = cos.get(m, new NDIndex("{}", positionIndex)).reshape(n, 1, -1);
            NDArray sinP = sin.get(m, new NDIndex("{}", positionIndex)).reshape(n, 1, -1);
            double scale = 1 / Math.sqrt(d);

            NDArray x = weights.embedding().get(m, new NDIndex("{}", m.create(ids))).toType(dtype, false);
            for (int l = 0; l < config.layers(); l++) {
                Layer layer = weights.layers().get(l);
                NDArray qkv = linear(rmsNorm(x, layer.attnNorm()), layer.qkv(), layer.qkvBias());
                NDArray q = rope(qkv.get(":, :{}", heads * d).reshape(n, heads, d), cosP, sinP);
                NDArray k = rope(qkv.get(":, {}:{}", heads * d, (heads + kvHeads) * d).reshape(n, kvHeads, d), cosP, sinP);
                NDArray v = qkv.get(":, {}:", (heads + kvHeads) * d).reshape(n, kvHeads, d);
                keys[l].set(new NDIndex("{}", rowIndex), k);
                values[l].set(new NDIndex("{}", rowIndex), v);
                NDArray cachedK = keys[l].get(m, new NDIndex("{}", gatherIndex)); // [B, L, kvHeads, d]
                NDArray cachedV = values[l].get(m, new NDIndex("{}", gatherIndex));

                // query head h reads KV head h / group: queries of one KV head are stacked as rows
                NDArray qg = q.reshape(b, t, kvHeads, group, d).transpose(0, 2, 3, 1, 4).reshape(b, kvHeads, group * t, d);
                NDArray scores = qg.mul(scale).matMul(cachedK.transpose(0, 2, 3, 1)) // [B, kvHeads, group*T, L]
                        .toType(DataType.FLOAT32, false).reshape(b, kvHeads, group, t, length).add(attnMask);
                NDArray probs = scores.softmax(-1).toType(dtype, false).reshape(b, kvHeads, group * t, length);
                NDArray attended = probs.matMul(cachedV.transpose(0, 2, 1, 3)) // [B, kvHeads, group*T, d]
                        .reshape(b, kvHeads, group, t, d).transpose(0, 3, 1, 2, 4).reshape(n, heads * d);
                x = x.add(linear(attended, layer.out(), null));

                NDArray gateUp = linear(rmsNorm(x, layer.mlpNorm()), layer.gateUp(), null);
                int f = config.intermediateSize();
                NDArray gate = gateUp.get(":, :{}", f);
                x = x.add(linear(gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(":, {}:", f)), layer.down(), null));
            }
            NDArray last = x.reshape(b, t, -1).get(":, -1, :");
            NDArray logits = linear(rmsNorm(last, weights.finalNorm()), weights.lmHead(), null).toType(DataType.FLOAT32, false);
            float[] flat = logits.toFloatArray();
            float[][] out = new float[b][];
            for (int i = 0; i < b; i++) {
                out[i] = Arrays.copyOfRange(flat, i * config.vocabSize(), (i + 1) * config.vocabSize());
            }
            return out;
        }
    }

    /** x / rms(x) in float32, rounded to the compute dtype, then times the weight (as HF Llama does). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray normed = xf.div(xf.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).sqrt());
        return normed.toType(dtype, false).mul(weight).toType(dtype, false);
    }

    /** Rotate-half RoPE on the first rotaryDim dims of each head of x [N, heads, d]; cos, sin [N, 1, rotaryDim/2]. */
    private NDArray rope(NDArray x, NDArray cosP, NDArray sinP) {
        int half = config.rotaryDim() / 2;
        NDArray x1 = x.get(":, :, :{}", half);
        NDArray x2 = x.get(":, :, {}:{}", half, 2 * half);
        NDList parts = new NDList(x1.mul(cosP).sub(x2.mul(sinP)), x2.mul(cosP).add(x1.mul(sinP)));
        if (2 * half < config.headDim()) {
            parts.add(x.get(":, :, {}:", 2 * half));
        }
        return NDArrays.concat(parts, -1);
    }

    /** x Wᵀ + b; a weight kept in float32 (beyond float16's range) gets float32 input, the result the input's dtype. */
    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        NDArray in = x.toType(weight.getDataType(), false);
        return in.getNDArrayInternal().linear(in, weight, bias).singletonOrThrow().toType(x.getDataType(), false);
    }

    /** Elements of every distinct weight (a tied head counts once). */
    private static long count(Weights w) {
        Set<NDArray> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(List.of(w.embedding(), w.finalNorm(), w.lmHead()));
        for (Layer l : w.layers()) {
            distinct.addAll(Stream.of(l.attnNorm(), l.qkv(), l.qkvBias(), l.out(), l.mlpNorm(), l.gateUp(), l.down())
                    .filter(Objects::nonNull).toList());
        }
        return distinct.stream().mapToLong(a -> a.getShape().size()).sum();
    }

    @Override
    public Footprint footprint() {
        List<NDArray> arrays = manager.getManagedArrays();
        long bytes = 0;
        for (NDArray a : arrays) {
            bytes += a.getShape().size() * a.getDataType().getNumOfBytes();
        }
        return new Footprint(arrays.size(), bytes);
    }

    @Override
    public void close() {
        manager.close();
    }
}
