package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The decoder every family maps onto (llama2.c style): pre-norm RMSNorm blocks of fused-QKV attention with
 * rotate-half RoPE on the first rotaryDim dims of each head, grouped KV heads, and a SwiGLU MLP whose fused
 * gate/up matrix holds the gate rows first. The KV cache is one pool per layer of blocks x blockSize rows, allocated
 * once; a sequence's position p is row blocks[p / blockSize] * blockSize + p % blockSize of its block table.
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
    private final int blocks;
    private final int blockSize;
    private final int maxContext;
    private final NDArray cos;
    private final NDArray sin;
    private final NDArray rotateHalf;
    /** Slices of the fused projections, parsed once: q and k of the QKV rows, q and k heads, v; gate and up. */
    private final NDIndex qkColumns, qHeads, kHeads, vColumns, gateColumns, upColumns;
    private static final int[] LAST_AXIS = {-1};
    private static final float FLOAT16_LOWEST = -65504f;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final long parameters;

    Transformer(ModelConfig config, NDManager manager, DataType dtype, Weights weights, int blocks, int blockSize, int maxContext) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.weights = weights;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.maxContext = maxContext;
        this.parameters = count(weights);
        float[][] tables = Rope.tables(config, maxContext);
        Shape tableShape = new Shape(maxContext, config.headDim());
        cos = manager.create(tables[0], tableShape).toType(dtype, false);
        sin = manager.create(tables[1], tableShape).toType(dtype, false);
        rotateHalf = manager.create(Rope.rotateHalf(config), new Shape(config.headDim(), config.headDim())).toType(dtype, false);
        int qRows = config.heads() * config.headDim(), kvRows = config.kvHeads() * config.headDim();
        qkColumns = new NDIndex(":, :{}", qRows + kvRows);
        qHeads = new NDIndex(":, :{}", config.heads());
        kHeads = new NDIndex(":, {}:", config.heads());
        vColumns = new NDIndex(":, {}:", qRows + kvRows);
        gateColumns = new NDIndex(":, :{}", config.intermediateSize());
        upColumns = new NDIndex(":, {}:", config.intermediateSize());
        keys = new NDArray[config.layers()];
        values = new NDArray[config.layers()];
        Shape cacheShape = new Shape((long) blocks * blockSize, config.kvHeads(), config.headDim());
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
    public int blocks() {
        return blocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public long parameterCount() {
        return parameters;
    }

    /**
     * All single-token segments run as one batch. Prefill chunks run together too, padded to the longest of their
     * group, where the padding stays under a quarter of the group's tokens and within the context.
     */
    @Override
    public List<Scores> step(List<Segment> segments) {
        validate(segments);
        Scores[] scores = new Scores[segments.size()];
        List<Integer> decode = new ArrayList<>();
        List<Integer> prefill = new ArrayList<>();
        for (int i = 0; i < segments.size(); i++) {
            (segments.get(i).tokens().length == 1 ? decode : prefill).add(i);
        }
        prefill.sort(Comparator.comparingInt((Integer i) -> segments.get(i).tokens().length).reversed());
        List<List<Integer>> batches = new ArrayList<>();
        if (!decode.isEmpty()) {
            batches.add(decode);
        }
        List<Integer> group = new ArrayList<>();
        long tokens = 0;
        for (int i : prefill) {
            Segment s = segments.get(i);
            int longest = group.isEmpty() ? s.tokens().length : segments.get(group.get(0)).tokens().length;
            boolean fits = s.startPosition() + longest <= maxContext;
            if (!group.isEmpty() && (!fits || 4L * longest * (group.size() + 1) > 5L * (tokens + s.tokens().length))) {
                batches.add(group);
                group = new ArrayList<>();
                tokens = 0;
            }
            group.add(i);
            tokens += s.tokens().length;
        }
        if (!group.isEmpty()) {
            batches.add(group);
        }
        for (List<Integer> batch : batches) {
            List<Scores> rows = run(batch.stream().map(segments::get).toList());
            for (int j = 0; j < rows.size(); j++) {
                scores[batch.get(j)] = rows.get(j);
            }
        }
        return Arrays.asList(scores);
    }

    private void validate(List<Segment> segments) {
        Set<Integer> written = new HashSet<>();
        for (Segment s : segments) {
            int end = s.startPosition() + s.tokens().length;
            if (s.tokens().length == 0 || s.startPosition() < 0 || end > maxContext || end > s.blocks().length * blockSize) {
                throw new IllegalArgumentException("segment at " + s.startPosition() + " with " + s.tokens().length
                        + " tokens does not fit the context of " + maxContext + " or its " + s.blocks().length + " blocks");
            }
            for (int block : s.blocks()) {
                if (block < 0 || block >= blocks) {
                    throw new IllegalArgumentException("block " + block + " is out of range [0, " + blocks + ")");
                }
            }
            // shared blocks are read by many segments, but a block written by two would mix their keys
            for (int i = s.startPosition() / blockSize; i <= (end - 1) / blockSize; i++) {
                if (!written.add(s.blocks()[i])) {
                    throw new IllegalArgumentException("block " + s.blocks()[i] + " is written by two segments");
                }
            }
            for (int id : s.tokens()) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
                }
            }
        }
    }

    /**
     * B sequences of up to T tokens each: the decode batch (T = 1) or prefill chunks. A shorter chunk is padded with
     * token 0 at the positions after it: their keys and values are not written, and their outputs are not read.
     */
    private List<Scores> run(List<Segment> batch) {
        int b = batch.size();
        int t = batch.stream().mapToInt(s -> s.tokens().length).max().orElseThrow();
        int n = b * t;
        int d = config.headDim();
        int length = batch.stream().mapToInt(s -> s.startPosition() + t).max().orElseThrow();
        int real = batch.stream().mapToInt(s -> s.tokens().length).sum();
        long[] ids = new long[n], positions = new long[n], rows = new long[real], written = new long[real];
        long[] gather = new long[b * length], last = new long[b];
        for (int i = 0, w = 0; i < b; i++) {
            Segment s = batch.get(i);
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = j < s.tokens().length ? s.tokens()[j] : 0;
                positions[i * t + j] = s.startPosition() + j;
                if (j < s.tokens().length) {
                    written[w] = i * t + j;
                    rows[w++] = row(s, s.startPosition() + j);
                }
            }
            last[i] = (long) i * t + s.tokens().length - 1;
            for (int j = 0; j < length; j++) {
                // past its blocks a sequence reads row 0: only padding queries, masked or unread, see those keys
                gather[i * length + j] = j < s.blocks().length * blockSize ? row(s, j) : 0;
            }
        }
        try (NDManager m = manager.newSubManager()) {
            NDArray rowIndex = m.create(rows);
            NDIndex writtenTokens = real == n ? null : new NDIndex("{}", m.create(written));
            NDArray gatherIndex = m.create(gather, new Shape(b, length));
            NDArray positionIndex = m.create(positions);
            // causal, built on the device: a token at position p sees cached positions 0..p of its own sequence; the
            // rest get the dtype's lowest value (as HF's masks do), whose softmax weight is exactly 0
            NDArray later = m.arange(0, length, 1, DataType.INT64)
                    .gt(positionIndex.reshape(t == 1 ? new Shape(b, 1, 1, 1) : new Shape(b, 1, 1, t, 1)));
            NDArray attnMask = later.toType(dtype, false).mul(dtype == DataType.FLOAT16 ? FLOAT16_LOWEST : -Float.MAX_VALUE);
            NDArray cosP = cos.get(m, new NDIndex("{}", positionIndex)).reshape(n, 1, d);
            NDArray sinP = sin.get(m, new NDIndex("{}", positionIndex)).reshape(n, 1, d);

            NDArray x = weights.embedding().get(m, new NDIndex("{}", m.create(ids))).toType(dtype, false);
            Batch step = new Batch(b, t, length, rowIndex, writtenTokens, gatherIndex, attnMask, cosP, sinP);
            for (int l = 0; l < config.layers(); l++) {
                try (NDManager scope = m.newSubManager()) {
                    x.attach(scope); // a layer's temporaries go with it: a long prefill chunk holds one layer's, not all
                    x = block(x, l, step, scope);
                    x.attach(m);
                }
            }
            NDArray lastTokens = t == 1 ? x : x.get(m, new NDIndex("{}", m.create(last)));
            NDArray logits = linear(rmsNorm(lastTokens, weights.finalNorm()), weights.lmHead(), null).toType(DataType.FLOAT32, false);
            return scores(m, logits, batch);
        }
    }

    /** Row of the layer pools that holds a sequence's position: the one place a block table is read. */
    private int row(Segment s, int position) {
        return s.blocks()[position / blockSize] * blockSize + position % blockSize;
    }

    /**
     * One step's batch: B sequences of T tokens over L cached positions, and the index tensors of the step; written
     * picks the real tokens out of the padded B x T (null when none is padding).
     */
    private record Batch(int b, int t, int length, NDArray rows, NDIndex written, NDArray gather, NDArray mask, NDArray cos, NDArray sin) {}

    /** One decoder block: attention over the sequence's cache (written first), then the SwiGLU MLP, both residual. */
    private NDArray block(NDArray x, int l, Batch s, NDManager scope) {
        int b = s.b(), t = s.t(), n = b * t;
        int heads = config.heads(), kvHeads = config.kvHeads(), d = config.headDim();
        int group = heads / kvHeads;
        Layer layer = weights.layers().get(l);
        NDArray qkv = linear(rmsNorm(x, layer.attnNorm()), layer.qkv(), layer.qkvBias());
        NDArray qk = rope(qkv.get(qkColumns).reshape(n, heads + kvHeads, d), s.cos(), s.sin());
        NDArray q = qk.get(qHeads);
        NDArray k = qk.get(kHeads);
        NDArray v = qkv.get(vColumns).reshape(n, kvHeads, d);
        keys[l].set(new NDIndex("{}", s.rows()), s.written() == null ? k : k.get(s.written()));
        values[l].set(new NDIndex("{}", s.rows()), s.written() == null ? v : v.get(s.written()));
        NDArray cachedK = keys[l].get(scope, new NDIndex("{}", s.gather())); // [B, L, kvHeads, d]
        NDArray cachedV = values[l].get(scope, new NDIndex("{}", s.gather()));

        // query head h reads KV head h / group: queries of one KV head are stacked as rows [B, kvHeads, group*T, d]
        NDArray qg = t == 1 ? q.reshape(b, kvHeads, group, d)
                : q.reshape(b, t, kvHeads, group, d).transpose(0, 2, 3, 1, 4).reshape(b, kvHeads, group * t, d);
        NDArray scores = qg.mul(1 / Math.sqrt(d)).matMul(cachedK.transpose(0, 2, 3, 1)); // [B, kvHeads, group*T, L]
        scores = t == 1 ? scores.add(s.mask())
                : scores.reshape(b, kvHeads, group, t, s.length()).add(s.mask()).reshape(b, kvHeads, group * t, s.length());
        // torch's softmax sums in float32 and rounds once to the compute dtype, as softmax(float32).to(dtype) does
        NDArray probs = scores.softmax(-1);
        NDArray attended = probs.matMul(cachedV.transpose(0, 2, 1, 3)); // [B, kvHeads, group*T, d]
        attended = t == 1 ? attended.reshape(n, heads * d)
                : attended.reshape(b, kvHeads, group, t, d).transpose(0, 3, 1, 2, 4).reshape(n, heads * d);
        x = x.add(linear(attended, layer.out(), null));

        NDArray gateUp = linear(rmsNorm(x, layer.mlpNorm()), layer.gateUp(), null);
        NDArray gate = gateUp.get(gateColumns);
        return x.add(linear(gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(upColumns)), layer.down(), null));
    }

    /** Argmax, max and log-sum-exp of every row on the device, in one copy to the host; whole rows where asked. */
    private static List<Scores> scores(NDManager m, NDArray logits, List<Segment> batch) {
        int b = batch.size();
        NDArray max = logits.max(new int[] {1}, true);
        NDArray logSumExp = logits.sub(max).exp().sum(new int[] {1}, true).log().add(max);
        NDArray argmax = logits.argMax(1).toType(DataType.FLOAT32, false).reshape(b, 1); // ids < 2^24 are exact
        float[] summary = NDArrays.concat(new NDList(argmax, max, logSumExp), 1).toFloatArray();
        long[] full = IntStream.range(0, b).filter(i -> batch.get(i).fullLogits()).mapToLong(i -> i).toArray();
        float[] rows = full.length == 0 ? new float[0]
                : (full.length == b ? logits : logits.get(m, new NDIndex("{}", m.create(full)))).toFloatArray();
        int vocab = (int) logits.getShape().get(1);
        List<Scores> out = new ArrayList<>(b);
        for (int i = 0, row = 0; i < b; i++) {
            float[] values = batch.get(i).fullLogits() ? Arrays.copyOfRange(rows, row * vocab, ++row * vocab) : null;
            out.add(new Scores((int) summary[3 * i], summary[3 * i + 1], summary[3 * i + 2], values));
        }
        return out;
    }

    /** x / rms(x) in float32, rounded to the compute dtype, then times the weight (as HF Llama does). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray normed = xf.div(xf.square().mean(LAST_AXIS, true).add(config.rmsNormEps()).sqrt());
        return normed.toType(dtype, false).mul(weight);
    }

    /**
     * Rotate-half RoPE on x [N, heads, d] as HF writes it, x * cos + rotate_half(x) * sin, with rotate_half as a
     * product with a signed permutation matrix (exact: one nonzero term per output). Past rotaryDim the tables hold
     * cos 1 and sin 0, so those dims pass unchanged.
     */
    private NDArray rope(NDArray x, NDArray cosP, NDArray sinP) {
        return x.mul(cosP).add(x.matMul(rotateHalf).mul(sinP));
    }

    /** x Wᵀ + b; a weight kept in float32 (beyond float16's range) gets float32 input, the result the input's dtype. */
    private NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (weight.getDataType() == dtype) {
            return JniUtils.linear((PtNDArray) x, (PtNDArray) weight, (PtNDArray) bias);
        }
        NDArray in = x.toType(weight.getDataType(), false);
        return JniUtils.linear((PtNDArray) in, (PtNDArray) weight, (PtNDArray) bias).toType(dtype, false);
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
