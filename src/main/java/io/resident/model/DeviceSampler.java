package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.resident.model.CausalLM.Pick;
import io.resident.model.CausalLM.Picked;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * Picks the next tokens of a step's segments on the device, the whole batch in one pass over its float32 logits, in
 * HF's order: repetition, presence and frequency penalties (over each sequence's ids held on the device), the
 * grammar's mask, then greedy argmax, or temperature, top-k, top-p and min-p and a draw by inverse CDF at each
 * request's own uniform (sorted, cumulated, counted), so a seeded request picks alike alone or batched. Only the
 * chosen ids, their logits and the asked-for alternatives come to the host, in one copy (a greedy pick under a mask
 * may take the step summary's argmax, or look at its few allowed ids only). Engine thread only.
 */
final class DeviceSampler {

    private static final NDIndex LAST_COLUMN = new NDIndex(":, -1:"), FIRST_COLUMN = new NDIndex(":, :1");
    /** Per byte of a packed mask: its 8 bits as 8 bytes of 0 or 1, lowest bit first (little-endian). */
    private static final long[] BYTES_OF_BITS = new long[256];
    private static final long ALL_ALLOWED = 0x0101_0101_0101_0101L;

    static {
        for (int b = 0; b < 256; b++) {
            for (int bit = 0; bit < 8; bit++) {
                BYTES_OF_BITS[b] |= (long) (b >>> bit & 1) << (8 * bit);
            }
        }
    }

    private final NDManager manager;
    private final int vocab;
    /** Per history row: counts of its generated ids, and 1 at its prompt's ids; row 0 stays zero (no history). */
    private NDArray generated, inPrompt;
    /** Flat views of the same two buffers, for writes at (row, id). */
    private NDArray generatedFlat, inPromptFlat;
    private int capacity;
    private final Deque<Integer> freeRows = new ArrayDeque<>();
    /** The batch's masks, a byte an id, rewritten each step; grown to the largest batch. */
    private ByteBuffer allowedBytes;

    /** @param manager the model's, which holds the history buffers */
    DeviceSampler(NDManager manager, int vocab) {
        this.manager = manager;
        this.vocab = vocab;
    }

    /**
     * The choice of every row of {@code logits} [rows, vocab] whose pick is not null (the others' entries are null).
     *
     * @param summary the step's summary (Transformer's), per row its argmax, max logit and log-sum-exp: a
     *                log-probability is the raw logit less the log-sum-exp, as for a row without a pick
     */
    Picked[] pick(NDArray logits, List<Pick> picks, float[] summary, NDManager m) {
        Picked[] out = new Picked[picks.size()];
        long[][] masks = new long[picks.size()][];
        IntStream.Builder onDevice = IntStream.builder(), fewAllowed = IntStream.builder();
        for (int i = 0; i < picks.size(); i++) {
            Pick p = picks.get(i);
            if (p == null) {
                continue;
            }
            masks[i] = p.allowed() == null ? null : p.allowed().get();
            int argmax = (int) summary[3 * i];
            if (masks[i] == null || !p.greedy() || p.history() != null || p.topLogprobs() > 0) {
                onDevice.add(i);
            } else if ((masks[i][argmax >>> 6] >>> argmax & 1) == 1) {
                // the row's argmax (the lowest id among equals) is allowed, so it is the allowed ids' argmax
                out[i] = new Picked(argmax, (float) (summary[3 * i + 1] - summary[3 * i + 2]), new int[0], new float[0]);
            } else if (8L * Arrays.stream(masks[i]).map(Long::bitCount).sum() <= vocab) {
                fewAllowed.add(i); // their indices, 8 bytes each, are no more to upload than a byte an id
            } else {
                onDevice.add(i);
            }
        }
        greedyAmong(logits, fewAllowed.build().toArray(), masks, summary, out, m);
        int[] rows = onDevice.build().toArray();
        if (rows.length == 0) {
            return out;
        }
        List<Pick> batch = Arrays.stream(rows).mapToObj(picks::get).toList();
        // always a copy in m: an op on a decode graph's static logits would leave its result in the graph's manager
        NDArray x = logits.get(m, new NDIndex("{}", m.create(Arrays.stream(rows).asLongStream().toArray())));
        NDArray chosen = choose(masked(penalized(x, batch, m), Arrays.stream(rows).mapToObj(i -> masks[i]).toList(), m), batch, m);
        record(chosen, batch, m);
        int k = batch.stream().mapToInt(Pick::topLogprobs).max().orElse(0);
        NDList parts = new NDList(chosen.toType(DataType.FLOAT32, false), x.gather(chosen, 1)); // ids < 2^24 are exact
        if (k > 0) {
            NDList top = x.topK(k, 1, true, true);
            parts.add(top.get(1).toType(DataType.FLOAT32, false));
            parts.add(top.get(0));
        }
        float[] host = NDArrays.concat(parts, 1).toFloatArray();
        int width = 2 + 2 * k;
        for (int i = 0; i < rows.length; i++) {
            int at = i * width, asked = batch.get(i).topLogprobs();
            double lse = summary[3 * rows[i] + 2];
            int[] topIds = new int[asked];
            float[] topLogprobs = new float[asked];
            for (int j = 0; j < asked; j++) {
                topIds[j] = (int) host[at + 2 + j];
                topLogprobs[j] = (float) (host[at + 2 + k + j] - lse);
            }
            out[rows[i]] = new Picked((int) host[at], (float) (host[at + 1] - lse), topIds, topLogprobs);
        }
        return out;
    }

    /**
     * Greedy picks of rows that allow few ids: the argmax of each row's logits gathered at its allowed ids, in
     * ascending order (so the lowest id among equals), without a vocab-wide op.
     */
    private void greedyAmong(NDArray logits, int[] rows, long[][] masks, float[] summary, Picked[] out, NDManager m) {
        if (rows.length == 0) {
            return;
        }
        int[][] ids = new int[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            ids[r] = idsOf(masks[rows[r]]);
        }
        int width = Arrays.stream(ids).mapToInt(a -> a.length).max().orElseThrow();
        long[] at = new long[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < width; j++) { // a shorter row repeats its last id, which comes after its own place
                at[r * width + j] = (long) rows[r] * vocab + ids[r][Math.min(j, ids[r].length - 1)];
            }
        }
        NDArray flat = logits.reshape(-1);
        flat.attach(m); // a view made from the logits, so made in their manager
        NDArray values = flat.get(m, new NDIndex("{}", m.create(at))).reshape(rows.length, width);
        NDArray best = values.argMax(1).reshape(rows.length, 1);
        float[] host = NDArrays.concat(new NDList(best.toType(DataType.FLOAT32, false), values.gather(best, 1)), 1).toFloatArray();
        for (int r = 0; r < rows.length; r++) {
            int i = rows[r];
            out[i] = new Picked(ids[r][(int) host[2 * r]], (float) (host[2 * r + 1] - summary[3 * i + 2]), new int[0], new float[0]);
        }
    }

    /** The ids whose bits are set, ascending. */
    private static int[] idsOf(long[] bits) {
        IntStream.Builder ids = IntStream.builder();
        for (int w = 0; w < bits.length; w++) {
            for (long b = bits[w]; b != 0; b &= b - 1) {
                ids.add(w * 64 + Long.numberOfTrailingZeros(b));
            }
        }
        return ids.build().toArray();
    }

    /** HF's repetition penalty over prompt and generated ids, then OpenAI's frequency and presence penalties. */
    NDArray penalized(NDArray x, List<Pick> batch, NDManager m) {
        if (batch.stream().allMatch(p -> p.history() == null)) {
            return x;
        }
        NDArray index = m.create(batch.stream().mapToLong(p -> p.history() == null ? 0 : rowOf(p.history(), m)).toArray());
        NDArray counts = generated.get(m, new NDIndex("{}", index));
        NDArray seen = inPrompt.get(m, new NDIndex("{}", index)).add(counts).gt(0);
        NDArray penalty = column(batch, Pick::repetitionPenalty, m);
        NDArray repeated = NDArrays.where(seen, NDArrays.where(x.lt(0), x.mul(penalty), x.div(penalty)), x);
        return repeated.sub(counts.mul(column(batch, Pick::frequencyPenalty, m)))
                .sub(counts.gt(0).toType(DataType.FLOAT32, false).mul(column(batch, Pick::presencePenalty, m)));
    }

    /**
     * -inf at every id a row's grammar does not allow. The packed mask is unpacked on the host into a byte an id (a
     * table lookup per 8 ids, microseconds a row) and applied with one where: unpacking bits on the device took five
     * vocab-wide ops, each a pass over the batch's logits (and on a busy CPU each a wait for its threads). The host only
     * writes its own buffer: a GPU gets one copy of vocab bytes a row, small beside a step; the CPU reads it in place.
     */
    private NDArray masked(NDArray x, List<long[]> masks, NDManager m) {
        if (masks.stream().allMatch(Objects::isNull)) {
            return x;
        }
        int n = masks.size();
        if (allowedBytes == null || allowedBytes.capacity() < n * vocab) {
            allowedBytes = ByteBuffer.allocateDirect(n * vocab).order(ByteOrder.LITTLE_ENDIAN);
        }
        int whole = vocab & ~7;
        for (int i = 0; i < n; i++) {
            long[] bits = masks.get(i);
            int row = i * vocab;
            for (int id = 0; id < whole; id += 8) {
                allowedBytes.putLong(row + id, bits == null ? ALL_ALLOWED : BYTES_OF_BITS[(int) (bits[id >>> 6] >>> (id & 63)) & 0xFF]);
            }
            for (int id = whole; id < vocab; id++) {
                allowedBytes.put(row + id, (byte) (bits == null ? 1 : bits[id >>> 6] >>> id & 1));
            }
        }
        NDArray allowed = m.create(allowedBytes.slice(0, n * vocab), new Shape(n, vocab), DataType.BOOLEAN);
        return NDArrays.where(allowed, x, m.create(Float.NEGATIVE_INFINITY));
    }

    /** Each row's id [n, 1]: the argmax when greedy, else a draw from what temperature, top-k, top-p and min-p keep. */
    private NDArray choose(NDArray x, List<Pick> batch, NDManager m) {
        int n = batch.size();
        NDArray argmax = x.argMax(1).reshape(n, 1);
        if (batch.stream().allMatch(Pick::greedy)) {
            return argmax;
        }
        NDArray scaled = x.div(column(batch, p -> p.greedy() ? 1 : p.temperature(), m));
        NDArray order = scaled.argSort(1, false);
        NDArray sorted = scaled.gather(order, 1);
        NDArray keepK = m.arange(0, vocab, 1, DataType.FLOAT32).reshape(1, vocab).lt(column(batch, p -> p.topK() == 0 ? vocab : p.topK(), m));
        NDArray probs = NDArrays.where(keepK, sorted, m.create(Float.NEGATIVE_INFINITY)).softmax(1);
        // top-p keeps while the probability before a token is under p; p = 1 keeps all, whatever the rounding
        NDArray before = probs.cumSum(1).sub(probs);
        NDArray keep = keepK.logicalAnd(before.lt(column(batch, p -> p.topP() >= 1 ? Double.POSITIVE_INFINITY : p.topP(), m)))
                .logicalAnd(probs.gte(probs.get(FIRST_COLUMN).mul(column(batch, Pick::minP, m))))
                .logicalAnd(probs.gt(0));
        // every cut keeps a prefix of the sorted row, so the draw's index is how many cumulated weights fall below it
        NDArray cdf = probs.mul(keep.toType(DataType.FLOAT32, false)).cumSum(1);
        NDArray below = cdf.lt(cdf.get(LAST_COLUMN).mul(column(batch, Pick::uniform, m)));
        NDArray index = below.toType(DataType.INT64, false).sum(new int[] {1}, true)
                .minimum(keep.toType(DataType.INT64, false).sum(new int[] {1}, true).sub(1));
        NDArray drawn = order.gather(index, 1);
        return NDArrays.where(column(batch, p -> p.greedy() ? 1 : 0, m).gt(0), argmax, drawn);
    }

    /** Counts each chosen id in its sequence's history. */
    private void record(NDArray chosen, List<Pick> batch, NDManager m) {
        long[] rows = IntStream.range(0, batch.size()).filter(i -> batch.get(i).history() != null).asLongStream().toArray();
        if (rows.length == 0) {
            return;
        }
        long[] base = Arrays.stream(rows).map(i -> (long) batch.get((int) i).history().row * vocab).toArray();
        NDArray at = m.create(base).add(chosen.reshape(-1).get(m, new NDIndex("{}", m.create(rows))));
        NDIndex index = new NDIndex("{}", at);
        generatedFlat.set(index, generatedFlat.get(m, index).add(1));
    }

    /** The history's row, taken at its first pick: zero counts, its prompt's ids marked. */
    private int rowOf(TokenHistory history, NDManager m) {
        if (history.row < 0) {
            if (freeRows.isEmpty()) {
                grow();
            }
            history.row = freeRows.pop();
            history.owner = this;
            // values made in m: a scalar written here would stay in the model's manager
            NDArray zeros = m.zeros(new Shape(vocab));
            generated.set(new NDIndex(history.row), zeros);
            inPrompt.set(new NDIndex(history.row), zeros);
            if (history.prompt.length > 0) {
                long base = (long) history.row * vocab;
                NDArray at = m.create(Arrays.stream(history.prompt).asLongStream().map(id -> base + id).toArray());
                inPromptFlat.set(new NDIndex("{}", at), m.ones(new Shape(history.prompt.length)));
            }
        }
        return history.row;
    }

    /** Doubles the buffers' rows (keeping theirs); row 0 is never handed out. */
    private void grow() {
        int rows = Math.max(4, 2 * capacity);
        NDArray nextGenerated = manager.zeros(new Shape(rows, vocab));
        NDArray nextInPrompt = manager.zeros(new Shape(rows, vocab));
        if (capacity > 0) {
            nextGenerated.set(new NDIndex("0:{}", capacity), generated);
            nextInPrompt.set(new NDIndex("0:{}", capacity), inPrompt);
            new NDList(generated, inPrompt, generatedFlat, inPromptFlat).close();
        }
        generated = nextGenerated;
        inPrompt = nextInPrompt;
        generatedFlat = generated.reshape(-1);
        inPromptFlat = inPrompt.reshape(-1);
        for (int row = Math.max(1, capacity); row < rows; row++) {
            freeRows.add(row);
        }
        capacity = rows;
    }

    /** A history's rows are free again (its sequence ended). */
    void release(TokenHistory history) {
        freeRows.push(history.row);
        history.row = -1;
    }

    /** One value per row as a column [n, 1] in float32. */
    private static NDArray column(List<Pick> batch, ToDoubleFunction<Pick> value, NDManager m) {
        float[] values = new float[batch.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) value.applyAsDouble(batch.get(i));
        }
        return m.create(values, new Shape(values.length, 1));
    }
}
