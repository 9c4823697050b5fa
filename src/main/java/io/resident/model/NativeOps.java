package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * resident's native companion (src/main/cpp), optional at runtime: fused attention, RoPE with the KV-cache write,
 * RMSNorm and SiLU-and-multiply, bfloat16 casts and CUDA-graph capture and replay, all on DJL's tensor handles (a PtNDArray handle is a
 * torch::Tensor*; tensors it returns are wrapped in the caller's manager, which frees them). Loaded once, for a GPU
 * only, and only when it was built against the libtorch DJL loaded.
 */
final class NativeOps {

    private static final Logger LOG = Logger.getLogger(NativeOps.class);
    static final String BUILD_COMMAND = "src/main/cpp/build.sh";
    /** Where the library is looked for (relative to the working directory) unless RESIDENT_NATIVE_LIBRARY names it. */
    static final String DEFAULT_PATH = "native/libresident_native.so";

    /** libtorch's ScalarType code of bfloat16. */
    private static final int BFLOAT16 = 15;

    /** CUDA ran out of memory inside the library. */
    static final class DeviceOutOfMemory extends RuntimeException {
        DeviceOutOfMemory(String message) {
            super(message);
        }
    }

    /** Whether the library serves, and why (or why not), in words for the startup log and the API. */
    record Status(boolean loaded, String reason) {}

    private static Status status;

    private NativeOps() {}

    /** Loads the library once (after DJL has loaded libtorch) and says whether it serves. */
    static synchronized Status load() {
        if (status == null) {
            status = tryLoad();
            LOG.info(status.loaded() ? "native companion " + status.reason() : "native companion not used: " + status.reason());
        }
        return status;
    }

    private static Status tryLoad() {
        return load(libraryPath());
    }

    /** Where the library is: RESIDENT_NATIVE_LIBRARY, else the default path under the working directory. */
    static Path libraryPath() {
        String configured = System.getenv("RESIDENT_NATIVE_LIBRARY");
        return Path.of(configured == null || configured.isBlank() ? DEFAULT_PATH : configured).toAbsolutePath();
    }

    /** Loads the library at path, unless it is missing, does not link against DJL's libtorch, or was built for another. */
    static Status load(Path path) {
        if (!Files.isRegularFile(path)) {
            return new Status(false, path + " not found (build it with " + BUILD_COMMAND
                    + ", or set RESIDENT_NATIVE_LIBRARY to its path)");
        }
        try {
            System.load(path.toString());
        } catch (UnsatisfiedLinkError e) {
            return new Status(false, path + " refused: it does not link against the libtorch DJL loaded (" + e.getMessage()
                    + "); rebuild it with " + BUILD_COMMAND + " against that libtorch");
        }
        String builtFor = builtFor(), loaded = loadedLibtorch();
        if (!builtFor.equals(loaded)) {
            return new Status(false, path + " refused: built for libtorch " + builtFor + ", but DJL loaded libtorch "
                    + (loaded.isEmpty() ? "of unknown version" : loaded) + "; rebuild it with " + BUILD_COMMAND);
        }
        return new Status(true, "loaded from " + path + " (libtorch " + loaded + ")");
    }

    static NDArray wrap(NDManager manager, long handle) {
        return new PtNDArray((PtNDManager) manager, handle);
    }

    static long handle(NDArray array) {
        return ((PtNDArray) array).getHandle();
    }

    /** x in target, through the companion for bf16 (DJL's own bf16 cast aborts the JVM), else through DJL. */
    static NDArray toType(NDArray x, DataType target, boolean copy) {
        return target == DataType.BFLOAT16 ? wrap(x.getManager(), toType(handle(x), BFLOAT16)) : x.toType(target, copy);
    }

    static NDArray rmsNorm(NDArray x, NDArray weight, double eps, NDManager m) {
        return wrap(m, rmsNorm(handle(x), handle(weight), eps));
    }

    /** {x + delta, rounded to x's dtype; its RMSNorm}, in m. */
    static NDArray[] addRmsNorm(NDArray x, NDArray delta, NDArray weight, double eps, NDManager m) {
        long[] both = addRmsNorm(handle(x), handle(delta), handle(weight), eps);
        return new NDArray[] {wrap(m, both[0]), wrap(m, both[1])};
    }

    static NDArray siluMul(NDArray gateUp, NDManager m) {
        return wrap(m, siluMul(handle(gateUp)));
    }

    static NDArray ropeAndCache(NDArray qkv, NDArray cos, NDArray sin, NDArray rows, NDArray keys, NDArray values,
                                int heads, int rotaryDim, NDManager m) {
        return wrap(m, ropeAndCache(handle(qkv), handle(cos), handle(sin), handle(rows), handle(keys), handle(values), heads, rotaryDim));
    }

    static NDArray decodeAttention(NDArray q, NDArray keys, NDArray values, NDArray blockTable, NDArray seqLens,
                                   int blockSize, double scale, NDManager m) {
        return wrap(m, decodeAttention(handle(q), handle(keys), handle(values), handle(blockTable), handle(seqLens), blockSize, scale));
    }

    static NDArray prefillAttention(NDArray q, NDArray keys, NDArray values, NDArray gather, NDArray positions,
                                    double scale, NDManager m) {
        return wrap(m, prefillAttention(handle(q), handle(keys), handle(values), handle(gather), handle(positions), scale));
    }

    static void copyFromHost(NDArray target, long[] values) {
        copyFromHost(handle(target), values);
    }

    private static native String builtFor();

    private static native String loadedLibtorch();

    private static native long toType(long x, int scalarType);

    private static native long rmsNorm(long x, long weight, double eps);

    private static native long[] addRmsNorm(long x, long delta, long weight, double eps);

    private static native long siluMul(long gateUp);

    private static native long ropeAndCache(long qkv, long cos, long sin, long rows, long keys, long values, int heads, int rotaryDim);

    private static native long decodeAttention(long q, long keys, long values, long blockTable, long seqLens, int blockSize, double scale);

    private static native long prefillAttention(long q, long keys, long values, long gather, long positions, double scale);

    private static native void copyFromHost(long target, long[] values);

    /** Moves the calling thread to a side stream for a warm-up and a capture; graphEnd moves it back. */
    static native long graphBegin(int device);

    static native void graphCapture(long graph);

    static native void graphEnd(long graph);

    static native void graphReplay(long graph);

    static native void graphDestroy(long graph);
}
