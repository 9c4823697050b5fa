package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * CUDA graphs of the model's decode forward, one per batch bucket (1, 2, 4, ... up to the slots), captured at the
 * bucket's first use through the native companion and replayed after its static inputs are written. A batch is padded
 * to its bucket. A graph that fails falls back to the eager step and is logged once; running out of device memory
 * turns graphs off.
 */
final class DecodeGraphs implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DecodeGraphs.class);

    /** The decode forward over static inputs tokens [rows, 3] and sequences [rows, 1 + blocks]: {logits, summary}. */
    interface Forward {
        NDArray[] run(NDArray tokens, NDArray sequences, NDManager m);
    }

    /** A graph's outputs, overwritten by its next replay. */
    record Outputs(NDArray logits, NDArray summary) {}

    private record Graph(long handle, NDManager memory, NDArray tokens, NDArray sequences, Outputs outputs) {}

    private final NDManager model;
    private final int device;
    private final List<Integer> buckets = new ArrayList<>();
    private final Forward forward;
    private final Map<Integer, Graph> graphs = new HashMap<>();
    private final Set<Integer> failed = new HashSet<>();
    private boolean off;
    private long replays;
    private String lastFailure;

    DecodeGraphs(NDManager model, int device, int slots, Forward forward) {
        this.model = model;
        this.device = device;
        this.forward = forward;
        for (int b = 1; b < slots; b *= 2) {
            buckets.add(b);
        }
        buckets.add(slots);
    }

    List<Integer> buckets() {
        return buckets;
    }

    /** What the graphs did so far, for a check: replays, captured and failed buckets, the last failure. */
    String report() {
        return "graphs " + (off ? "off" : "on") + ", " + replays + " replays, captured " + graphs.keySet() + ", failed " + failed
                + (lastFailure == null ? "" : ": " + lastFailure);
    }

    /** The rows of the smallest bucket that holds b sequences, or -1 when graphs are off. */
    int bucket(int b) {
        return off ? -1 : buckets.stream().filter(rows -> rows >= b).findFirst().orElse(-1);
    }

    /**
     * Writes the inputs (padded to rows) and replays the bucket's graph, capturing it first at its first use.
     *
     * @return its outputs, or null when this step must run eagerly
     */
    Outputs replay(int rows, long[] tokens, long[] sequences) {
        if (off || failed.contains(rows)) {
            return null;
        }
        try {
            Graph graph = graphs.get(rows);
            if (graph == null) {
                graph = capture(rows, tokens, sequences);
                graphs.put(rows, graph);
            } else {
                NativeOps.copyFromHost(graph.tokens(), tokens);
                NativeOps.copyFromHost(graph.sequences(), sequences);
            }
            NativeOps.graphReplay(graph.handle());
            replays++;
            return graph.outputs();
        } catch (NativeOps.DeviceOutOfMemory e) {
            LOG.warnf("out of device memory in the decode graph of batch %d (%s): CUDA graphs are off, decode runs eagerly",
                    rows, e.getMessage());
            close();
            off = true;
            return null;
        } catch (RuntimeException e) {
            LOG.warnf(e, "the decode graph of batch %d failed: batches of that bucket decode eagerly from now on", rows);
            failed.add(rows);
            lastFailure = e.toString();
            return null;
        }
    }

    /**
     * A warm-up run and the capture, both on the companion's side stream, over the bucket's static inputs holding this
     * step's (the warm-up writes this step's keys and values, as the replay after the capture does again).
     */
    private Graph capture(int rows, long[] tokenValues, long[] sequenceValues) {
        long start = System.nanoTime();
        NDManager memory = model.newSubManager();
        NDArray tokens = memory.zeros(new Shape(rows, tokenValues.length / rows), DataType.INT64);
        NDArray sequences = memory.zeros(new Shape(rows, sequenceValues.length / rows), DataType.INT64);
        NativeOps.copyFromHost(tokens, tokenValues);
        NativeOps.copyFromHost(sequences, sequenceValues);
        long handle = 0;
        boolean captured = false;
        try {
            handle = NativeOps.graphBegin(device);
            try (NDManager warmUp = memory.newSubManager()) {
                forward.run(tokens, sequences, warmUp);
            }
            NativeOps.graphCapture(handle);
            NDArray[] out;
            try (NDManager step = memory.newSubManager()) {
                out = forward.run(tokens, sequences, step);
                for (NDArray a : out) {
                    a.attach(memory);
                }
            }
            NativeOps.graphEnd(handle);
            captured = true;
            LOG.infof("decode graph of batch %d captured in %d ms", rows, (System.nanoTime() - start) / 1_000_000);
            return new Graph(handle, memory, tokens, sequences, new Outputs(out[0], out[1]));
        } finally {
            if (!captured) {
                if (handle != 0) {
                    endQuietly(handle);
                    NativeOps.graphDestroy(handle);
                }
                memory.close();
            }
        }
    }

    /** Ends a failed capture (back to the engine's stream); the failure that got here is the one reported. */
    private static void endQuietly(long handle) {
        try {
            NativeOps.graphEnd(handle);
        } catch (RuntimeException e) {
            LOG.debug("ending a failed capture", e);
        }
    }

    @Override
    public void close() {
        for (Graph graph : graphs.values()) {
            NativeOps.graphDestroy(graph.handle());
            graph.memory().close();
        }
        graphs.clear();
    }
}
