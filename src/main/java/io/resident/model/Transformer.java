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
 * at load and replaced by {@link #allocateCache}; a sequence's position p is row blocks[p / blockSize] * blockSize + p % blockSize of its block table, and one
 * scratch row past the blocks takes the writes of padding tokens. With the native companion on a GPU, attention, RoPE
 * with the cache write, RMSNorm and SiLU-and-multiply are fused ops, bf16 computes in bf16, and decode steps replay CUDA graphs of this same forward.
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
    private int blocks;
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
    private final int blockSize;
    /** The cache row padding tokens write to (a graph's padded rows and a prefill chunk's), past every block. */
    private long scratchRow;
    /** Whether the native companion serves this model: fused ops and bf16, and decode graphs when graphs is set. */
    private final boolean fused;
    /** The native companion's status on a GPU, null on the CPU. */
    private final NativeOps.Status companion;
    /** The largest decode batch replayed as a graph; larger ones run eagerly. */
    private static final int MAX_GRAPH_BATCH = 256;
    private DecodeGraphs graphs;
    private final DeviceSampler sampler;
    private static final NDIndex FIRST_COLUMN = new NDIndex(":, 0"), SECOND_COLUMN = new NDIndex(":, 1"),
            THIRD_COLUMN = new NDIndex(":, 2"), AFTER_FIRST_COLUMN = new NDIndex(":, 1:");

    Transformer(ModelConfig config, NDManager manager, DataType dtype, Weights weights, int blocks, int blockSize, int maxContext) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.weights = weights;
        this.blockSize = blockSize;
        this.maxContext = maxContext;
        this.parameters = count(weights);
        this.companion = manager.getDevice().isGpu() ? NativeOps.load() : null;
        this.fused = companion != null && companion.loaded();
        float[][] tables = Rope.tables(config, maxContext);
        Shape tableShape = new Shape(maxContext, config.headDim());
        cos = compute(manager.create(tables[0], tableShape));
        sin = compute(manager.create(tables[1], tableShape));
        rotateHalf = compute(manager.create(Rope.rotateHalf(config), new Shape(config.headDim(), config.headDim())));
        int qRows = config.heads() * config.headDim(), kvRows = config.kvHeads() * config.headDim();
        qkColumns = new NDIndex(":, :{}", qRows + kvRows);
        qHeads = new NDIndex(":, :{}", config.heads());
        kHeads = new NDIndex(":, {}:", config.heads());
        vColumns = new NDIndex(":, {}:", qRows + kvRows);
        gateColumns = new NDIndex(":, :{}", config.intermediateSize());
        upColumns = new NDIndex(":, {}:", config.intermediateSize());
        keys = new NDArray[config.layers()];
        values = new NDArray[config.layers()];
        allocatePools(blocks);
        sampler = new DeviceSampler(manager, config.vocabSize());
        boolean graphsOn = fused && !"false".equalsIgnoreCase(System.getenv("RESIDENT_CUDA_GRAPHS"));
        graphs = graphsOn ? new DecodeGraphs(manager, manager.getDevice().getDeviceId(), Math.min(blocks, MAX_GRAPH_BATCH), this::decodeForward) : null;
    }

    /** Each layer's key and value pools of blocks x blockSize rows, plus the scratch row. */
    private void allocatePools(int blocks) {
        this.blocks = blocks;
        this.scratchRow = (long) blocks * blockSize;
        Shape cacheShape = new Shape(scratchRow + 1, config.kvHeads(), config.headDim());
        for (int i = 0; i < config.layers(); i++) {
            keys[i] = zeros(cacheShape);
            values[i] = zeros(cacheShape);
        }
    }

    @Override
    public void allocateCache(int blocks) {
        boolean graphsOn = graphs != null;
        useGraphs(false); // captured graphs read the old pools, and their buckets follow the blocks
        for (int i = 0; i < config.layers(); i++) {
            keys[i].close();
            values[i].close();
        }
        allocatePools(blocks);
        useGraphs(graphsOn);
    }

    private String dtypeName() {
        return dtype.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String acceleration() {
        return companion == null ? "pure DJL on the CPU"
                : !fused ? "pure DJL: native companion " + companion.reason()
                : "native companion " + companion.reason() + ": fused attention, RoPE with the cache write, RMSNorm and SiLU, " + dtypeName()
                        + (graphs == null ? ", CUDA graphs off (RESIDENT_CUDA_GRAPHS=false)"
                                : ", decode as CUDA graphs of batch buckets " + graphs.buckets() + " captured at first use");
    }

    /** Turns decode graphs off or back on (eager decode with the same fused ops when off); a check compares the two. */
    void useGraphs(boolean on) {
        if (!on && graphs != null) {
            graphs.close();
            graphs = null;
        } else if (on && graphs == null && fused) {
            graphs = new DecodeGraphs(manager, manager.getDevice().getDeviceId(), Math.min(blocks, MAX_GRAPH_BATCH), this::decodeForward);
        }
    }

    /** What the decode graphs did so far, for a check. */
    String graphReport() {
        return graphs == null ? "graphs off" : graphs.report();
    }

    /** x in the compute dtype, through the companion for bf16 (DJL's own cast to bf16 aborts the JVM). */
    private NDArray compute(NDArray x) {
        return NativeOps.toType(x, dtype, false);
    }

    private NDArray zeros(Shape shape) {
        if (dtype != DataType.BFLOAT16) {
            return manager.zeros(shape, dtype);
        }
        try (NDArray half = manager.zeros(shape, DataType.FLOAT16)) {
            return compute(half);
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
     * group, where the padding stays under a quarter of the group's tokens and within the context. The decode batch and
     * the prefill groups are one forward pass, so that a step reads the weights once.
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
        List<Integer> order = batches.stream().flatMap(List::stream).toList();
        List<Scores> rows = run(batches.stream().map(batch -> batch.stream().map(segments::get).toList()).toList());
        for (int j = 0; j < rows.size(); j++) {
            scores[order.get(j)] = rows.get(j);
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
     * One forward over the step's groups: the decode batch (T = 1) and groups of prefill chunks of up to T tokens each.
     * A shorter chunk is padded with token 0 at the positions after it: their keys and values go to the scratch row,
     * and their outputs are not read. A step of the decode batch alone replays its bucket's CUDA graph where there is
     * one, else runs eagerly.
     */
    private List<Scores> run(List<List<Segment>> groups) {
        List<Segment> batch = groups.stream().flatMap(List::stream).toList();
        try (NDManager m = manager.newSubManager()) {
            if (groups.size() == 1 && batch.get(0).tokens().length == 1 && graphs != null) {
                int rows = graphs.bucket(batch.size());
                StepInput in = rows < 0 ? null : input(groups, rows);
                DecodeGraphs.Outputs out = in == null ? null : graphs.replay(rows, in.tokens(), in.groups().get(0).sequences());
                if (out != null) {
                    return scores(m, out.summary(), out.logits(), batch);
                }
            }
            StepInput in = input(groups, batch.size());
            List<NDArray> sequences = in.groups().stream()
                    .map(g -> m.create(g.sequences(), new Shape(g.b(), g.sequences().length / g.b()))).toList();
            Step step = upload(in, m.create(in.tokens(), new Shape(in.tokens().length / 3, 3)), sequences, m);
            NDArray logits = forward(step, m);
            return scores(m, summary(logits), logits, batch);
        }
    }

    /**
     * A step's inputs on the host: per token its id, position and cache row, group after group; per group its shape and
     * sequences; the row of each sequence's last token, or null when every row is one (a decode batch alone).
     */
    private record StepInput(long[] tokens, List<GroupInput> groups, long[] last) {}

    /**
     * One group's B sequences of T tokens over L positions: per sequence its length after the step and its block table;
     * for attention without the companion or in prefill the cache rows of positions [0, L) of each sequence. Rows past
     * the batch (a graph's bucket) are padding: token 0 at position 0 writing the scratch row, length 0; so are a
     * shorter prefill chunk's tokens past its end.
     */
    private record GroupInput(int b, int t, int length, long[] sequences, long[] gather) {}

    /** The step's inputs; a decode batch alone is padded to {@code rows} sequences (a graph's bucket). */
    private StepInput input(List<List<Segment>> groups, int rows) {
        int maxBlocks = (maxContext + blockSize - 1) / blockSize;
        int tokenRows = 0, outputs = 0;
        for (List<Segment> group : groups) {
            int b = groups.size() == 1 ? rows : group.size();
            tokenRows += b * longest(group);
            outputs += b;
        }
        long[] tokens = new long[tokenRows * 3], last = new long[outputs];
        List<GroupInput> inputs = new ArrayList<>();
        int offset = 0, output = 0;
        for (List<Segment> group : groups) {
            int t = longest(group), b = groups.size() == 1 ? rows : group.size();
            int length = group.stream().mapToInt(s -> s.startPosition() + t).max().orElseThrow();
            boolean gathers = !fused || t > 1;
            long[] sequences = new long[b * (1 + maxBlocks)], gather = gathers ? new long[b * length] : null;
            for (int i = 0; i < b; i++) {
                Segment s = i < group.size() ? group.get(i) : null;
                int[] blocks = s == null ? new int[0] : s.blocks();
                for (int j = 0; j < t; j++) {
                    int k = 3 * (offset + i * t + j);
                    tokens[k] = s != null && j < s.tokens().length ? s.tokens()[j] : 0;
                    tokens[k + 1] = s == null ? 0 : s.startPosition() + j;
                    tokens[k + 2] = s == null || j >= s.tokens().length ? scratchRow : row(blocks, s.startPosition() + j);
                }
                sequences[i * (1 + maxBlocks)] = s == null ? 0 : s.startPosition() + s.tokens().length;
                for (int j = 0; j < blocks.length; j++) {
                    sequences[i * (1 + maxBlocks) + 1 + j] = blocks[j];
                }
                last[output++] = offset + (long) i * t + (s == null ? 1 : s.tokens().length) - 1;
                for (int j = 0; gathers && j < length; j++) {
                    // past its blocks a sequence reads the scratch row: only padding queries, masked or unread, see it
                    gather[i * length + j] = j < blocks.length * blockSize ? row(blocks, j) : scratchRow;
                }
            }
            inputs.add(new GroupInput(b, t, length, sequences, gather));
            offset += b * t;
        }
        return new StepInput(tokens, inputs, output == offset ? null : last);
    }

    private static int longest(List<Segment> group) {
        return group.stream().mapToInt(s -> s.tokens().length).max().orElseThrow();
    }

    /** Row of the layer pools that holds a sequence's position: the one place a block table is read. */
    private long row(int[] blocks, int position) {
        return (long) blocks[position / blockSize] * blockSize + position % blockSize;
    }

    /** One step on the device: N token rows, the groups attention runs over, and the rows whose logits are wanted. */
    private record Step(int n, NDArray ids, NDArray rows, NDArray cos, NDArray sin, List<Group> groups, NDArray last) {}

    /** A group's rows [start, start + B*T) of the step, B sequences of T tokens over L cached positions, and its index tensors. */
    private record Group(int start, int b, int t, int length, NDArray positions, NDArray seqLens, NDArray blockTable,
                         NDArray gather, NDArray mask) {}

    /**
     * The step's tensors from its packed inputs on the device, tokens [N, 3] and per group sequences [B, 1 + blocks],
     * with device ops only (a graph captures them and re-reads the static inputs at each replay).
     */
    private Step upload(StepInput in, NDArray tokens, List<NDArray> sequences, NDManager m) {
        int n = (int) tokens.getShape().get(0), d = config.headDim();
        NDArray positions = tokens.get(SECOND_COLUMN);
        List<Group> groups = new ArrayList<>();
        int start = 0;
        for (int g = 0; g < in.groups().size(); g++) {
            GroupInput group = in.groups().get(g);
            int b = group.b(), t = group.t(), length = group.length();
            NDArray own = in.groups().size() == 1 ? positions : positions.get(new NDIndex("{}:{}", start, start + b * t));
            NDArray mask = null;
            if (!fused) {
                // causal, built on the device: a token at position p sees cached positions 0..p of its own sequence; the
                // rest get the dtype's lowest value (as HF's masks do), whose softmax weight is exactly 0
                NDArray later = m.arange(0, length, 1, DataType.INT64)
                        .gt(own.reshape(t == 1 ? new Shape(b, 1, 1, 1) : new Shape(b, 1, 1, t, 1)));
                mask = later.toType(dtype, false).mul(dtype == DataType.FLOAT16 ? FLOAT16_LOWEST : -Float.MAX_VALUE);
            }
            NDArray seq = sequences.get(g);
            groups.add(new Group(start, b, t, length, own, seq.get(FIRST_COLUMN).toType(DataType.INT32, false),
                    seq.get(AFTER_FIRST_COLUMN).toType(DataType.INT32, false),
                    group.gather() == null ? null : m.create(group.gather(), new Shape(b, length)), mask));
            start += b * t;
        }
        NDArray cosP = cos.get(m, new NDIndex("{}", positions)).reshape(n, 1, d);
        NDArray sinP = sin.get(m, new NDIndex("{}", positions)).reshape(n, 1, d);
        return new Step(n, tokens.get(FIRST_COLUMN), tokens.get(THIRD_COLUMN), cosP, sinP, groups,
                in.last() == null ? null : m.create(in.last()));
    }

    /** The forward pass over a step's device tensors: next-token logits in float32 [B, vocab]. Nothing goes to the host. */
    private NDArray forward(Step step, NDManager m) {
        NDArray x = compute(weights.embedding().get(m, new NDIndex("{}", step.ids())));
        for (int l = 0; l < config.layers(); l++) {
            try (NDManager scope = m.newSubManager()) {
                x.attach(scope); // a layer's temporaries go with it: a long prefill chunk holds one layer's, not all
                x = block(x, l, step, scope);
                x.attach(m);
            }
        }
        NDArray lastTokens = step.last() == null ? x : x.get(m, new NDIndex("{}", step.last()));
        return linear(rmsNorm(lastTokens, weights.finalNorm()), weights.lmHead(), null).toType(DataType.FLOAT32, false);
    }

    /** A decode graph's forward from its static inputs: the logits and their summary, in m. */
    private NDArray[] decodeForward(NDArray tokens, NDArray sequences, NDManager m) {
        int rows = (int) tokens.getShape().get(0);
        StepInput shape = new StepInput(null, List.of(new GroupInput(rows, 1, 1, null, null)), null);
        NDArray logits = forward(upload(shape, tokens, List.of(sequences), m), m);
        return new NDArray[] {logits, summary(logits)};
    }

    /** One decoder block: attention over the sequence's cache (written first), then the SwiGLU MLP, both residual. */
    private NDArray block(NDArray x, int l, Step s, NDManager scope) {
        Layer layer = weights.layers().get(l);
        NDArray qkv = linear(rmsNorm(x, layer.attnNorm()), layer.qkv(), layer.qkvBias());
        NDArray q = ropeAndCache(qkv, l, s);
        Residual attended = addRmsNorm(x, linear(attention(q, l, s, scope), layer.out(), null), layer.mlpNorm());

        NDArray gateUp = linear(attended.normed(), layer.gateUp(), null);
        return attended.sum().add(linear(siluMul(gateUp), layer.down(), null));
    }

    /** RoPE on the q and k heads of the fused QKV rows; k and v go to the layer's cache rows of the step's tokens, q [N, heads, d] comes back. */
    private NDArray ropeAndCache(NDArray qkv, int l, Step s) {
        if (fused) {
            return NativeOps.ropeAndCache(qkv, s.cos(), s.sin(), s.rows(), keys[l], values[l], config.heads(), config.rotaryDim(), qkv.getManager());
        }
        int n = s.n(), kvHeads = config.kvHeads(), d = config.headDim();
        NDArray qk = rope(qkv.get(qkColumns).reshape(n, config.heads() + kvHeads, d), s.cos(), s.sin());
        keys[l].set(new NDIndex("{}", s.rows()), qk.get(kHeads));
        values[l].set(new NDIndex("{}", s.rows()), qkv.get(vColumns).reshape(n, kvHeads, d));
        return qk.get(qHeads);
    }

    /** Attention of q [N, heads, d] over the cached positions of each sequence, group by group: [N, heads*d]. */
    private NDArray attention(NDArray q, int l, Step s, NDManager scope) {
        if (s.groups().size() == 1) {
            return attention(q, l, s.groups().get(0), scope);
        }
        NDList parts = new NDList();
        for (Group g : s.groups()) {
            parts.add(attention(q.get(new NDIndex("{}:{}", g.start(), g.start() + g.b() * g.t())), l, g, scope));
        }
        return NDArrays.concat(parts, 0);
    }

    /** Attention of one group's q [B*T, heads, d]: [B*T, heads*d]. */
    private NDArray attention(NDArray q, int l, Group g, NDManager scope) {
        double scale = 1 / Math.sqrt(config.headDim());
        if (fused) {
            return g.t() == 1 ? NativeOps.decodeAttention(q.reshape(g.b(), config.heads(), config.headDim()), keys[l], values[l],
                            g.blockTable(), g.seqLens(), blockSize, scale, scope)
                    : NativeOps.prefillAttention(q, keys[l], values[l], g.gather(), g.positions(), scale, scope);
        }
        int b = g.b(), t = g.t(), n = b * t;
        int heads = config.heads(), kvHeads = config.kvHeads(), d = config.headDim();
        int group = heads / kvHeads;
        NDArray cachedK = keys[l].get(scope, new NDIndex("{}", g.gather())); // [B, L, kvHeads, d]
        NDArray cachedV = values[l].get(scope, new NDIndex("{}", g.gather()));
        // query head h reads KV head h / group: queries of one KV head are stacked as rows [B, kvHeads, group*T, d]
        NDArray qg = t == 1 ? q.reshape(b, kvHeads, group, d)
                : q.reshape(b, t, kvHeads, group, d).transpose(0, 2, 3, 1, 4).reshape(b, kvHeads, group * t, d);
        NDArray scores = qg.mul(scale).matMul(cachedK.transpose(0, 2, 3, 1)); // [B, kvHeads, group*T, L]
        scores = t == 1 ? scores.add(g.mask())
                : scores.reshape(b, kvHeads, group, t, g.length()).add(g.mask()).reshape(b, kvHeads, group * t, g.length());
        // torch's softmax sums in float32 and rounds once to the compute dtype, as softmax(float32).to(dtype) does
        NDArray probs = scores.softmax(-1);
        NDArray attended = probs.matMul(cachedV.transpose(0, 2, 1, 3)); // [B, kvHeads, group*T, d]
        return t == 1 ? attended.reshape(n, heads * d)
                : attended.reshape(b, kvHeads, group, t, d).transpose(0, 3, 1, 2, 4).reshape(n, heads * d);
    }

    /** SiLU(gate) * up of the fused gate/up projection. */
    private NDArray siluMul(NDArray gateUp) {
        if (fused) {
            return NativeOps.siluMul(gateUp, gateUp.getManager());
        }
        NDArray gate = gateUp.get(gateColumns);
        return gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(upColumns));
    }

    /** Argmax, max and log-sum-exp of every logits row, on the device: [B, 3] in float32. */
    private static NDArray summary(NDArray logits) {
        int b = (int) logits.getShape().get(0);
        NDArray max = logits.max(new int[] {1}, true);
        NDArray logSumExp = logits.sub(max).exp().sum(new int[] {1}, true).log().add(max);
        NDArray argmax = logits.argMax(1).toType(DataType.FLOAT32, false).reshape(b, 1); // ids < 2^24 are exact
        return NDArrays.concat(new NDList(argmax, max, logSumExp), 1);
    }

    /**
     * The batch's scores from the summary in one copy to the host, the device sampler's picks where asked, and whole
     * logits rows where asked.
     */
    private List<Scores> scores(NDManager m, NDArray summaries, NDArray logits, List<Segment> batch) {
        int b = batch.size();
        float[] summary = summaries.toFloatArray();
        Picked[] picked = sampler.pick(logits, batch.stream().map(Segment::pick).toList(), summary, m);
        long[] full = IntStream.range(0, b).filter(i -> batch.get(i).fullLogits()).mapToLong(i -> i).toArray();
        float[] rows = full.length == 0 ? new float[0]
                : (full.length == logits.getShape().get(0) ? logits : logits.get(m, new NDIndex("{}", m.create(full)))).toFloatArray();
        int vocab = (int) logits.getShape().get(1);
        List<Scores> out = new ArrayList<>(b);
        for (int i = 0, row = 0; i < b; i++) {
            float[] values = batch.get(i).fullLogits() ? Arrays.copyOfRange(rows, row * vocab, ++row * vocab) : null;
            out.add(new Scores((int) summary[3 * i], summary[3 * i + 1], summary[3 * i + 2], values, picked[i]));
        }
        return out;
    }

    /** The residual stream after an add, and its RMSNorm. */
    private record Residual(NDArray sum, NDArray normed) {}

    /** x + delta in the compute dtype and that sum's RMSNorm, one kernel with the companion. */
    private Residual addRmsNorm(NDArray x, NDArray delta, NDArray weight) {
        if (fused) {
            NDArray[] both = NativeOps.addRmsNorm(x, delta, weight, config.rmsNormEps(), x.getManager());
            return new Residual(both[0], both[1]);
        }
        NDArray sum = x.add(delta);
        return new Residual(sum, rmsNorm(sum, weight));
    }

    /** x / rms(x) in float32, rounded to the compute dtype, then times the weight (as HF Llama does). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        if (fused) {
            return NativeOps.rmsNorm(x, weight, config.rmsNormEps(), x.getManager());
        }
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

    /**
     * x Wᵀ + b; a weight kept in float32 (beyond float16's range) gets float32 input, the result the input's dtype.
     * bf16 weights read as DJL's UNKNOWN type, and bf16 keeps every weight in bf16.
     */
    private NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (dtype == DataType.BFLOAT16 || weight.getDataType() == dtype) {
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
            // a bf16 tensor reads as DJL's UNKNOWN type, of 0 bytes
            bytes += a.getShape().size() * (a.getDataType() == DataType.UNKNOWN ? 2 : a.getDataType().getNumOfBytes());
        }
        return new Footprint(arrays.size(), bytes);
    }

    @Override
    public void close() {
        useGraphs(false);
        manager.close();
    }
}
