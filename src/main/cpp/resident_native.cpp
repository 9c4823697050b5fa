// JNI entry points of io.resident.model.NativeOps. Every tensor argument is a DJL PtNDArray handle (a torch::Tensor*);
// every tensor returned is a new torch::Tensor* that the Java side wraps as a PtNDArray, so DJL frees it.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <jni.h>
#include <torch/version.h>

#include <optional>
#include <string>
#include <utility>

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                            const at::Tensor& block_table, const at::Tensor& seq_lens, int64_t block_size, double scale);
std::pair<at::Tensor, at::Tensor> add_rms_norm(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& weight,
                                               double eps);
at::Tensor silu_mul(const at::Tensor& gate_up);
at::Tensor rope_cache(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& rows,
                      const at::Tensor& keys, const at::Tensor& values, int64_t heads, int64_t rotary);

namespace {

const at::Tensor& tensor(jlong handle) { return *reinterpret_cast<at::Tensor*>(handle); }

jlong handle(at::Tensor&& t) { return reinterpret_cast<jlong>(new at::Tensor(std::move(t))); }

void rethrow(JNIEnv* env, const char* type, const std::string& message) {
  jclass cls = env->FindClass(type);
  if (cls != nullptr) {
    env->ThrowNew(cls, message.c_str());
  }
}

// a C++ exception becomes a Java one; out-of-memory gets its own type, as capture turns graphs off on it
#define GUARDED(env, ...)                                                                    \
  try {                                                                                      \
    __VA_ARGS__                                                                              \
  } catch (const c10::OutOfMemoryError& e) {                                                 \
    rethrow(env, "io/resident/model/NativeOps$DeviceOutOfMemory", e.what_without_backtrace()); \
  } catch (const c10::Error& e) {                                                            \
    rethrow(env, "java/lang/IllegalStateException", e.what_without_backtrace());             \
  } catch (const std::exception& e) {                                                        \
    rethrow(env, "java/lang/IllegalStateException", e.what());                               \
  }

// one capture: the engine thread runs on a side stream from begin to end, as CUDA graphs need
struct Capture {
  at::cuda::CUDAGraph graph;
  std::optional<c10::cuda::CUDAStream> previous;
  bool capturing = false;
  bool pooled = false;
};

// the pool every live decode graph allocates from, so graphs of different buckets share their activations' memory;
// the allocator drops a pool with its last graph, so a capture after that (a model loaded anew) takes a fresh one
at::cuda::MempoolId_t pool;
int pooled_graphs = 0;

at::cuda::MempoolId_t graph_pool() {
  if (pooled_graphs == 0) {
    pool = at::cuda::graph_pool_handle();
  }
  return pool;
}

}  // namespace

extern "C" {

JNIEXPORT jstring JNICALL Java_io_resident_model_NativeOps_builtFor(JNIEnv* env, jclass) {
  return env->NewStringUTF(TORCH_VERSION);
}

// the version of the libtorch actually loaded: its build settings name it
JNIEXPORT jstring JNICALL Java_io_resident_model_NativeOps_loadedLibtorch(JNIEnv* env, jclass) {
  std::string config = at::show_config();
  std::string key = "TORCH_VERSION=";
  auto at = config.find(key);
  std::string version;
  if (at != std::string::npos) {
    auto end = config.find_first_of(", \n", at + key.size());
    version = config.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
  }
  return env->NewStringUTF(version.c_str());
}

JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_toType(JNIEnv* env, jclass, jlong x, jint scalar_type) {
  GUARDED(env, return handle(tensor(x).to(static_cast<at::ScalarType>(scalar_type)));)
  return 0;
}

// HF's RMSNorm: x / rms(x) in float32, rounded to x's dtype, times the weight
JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_rmsNorm(JNIEnv* env, jclass, jlong x, jlong weight, jdouble eps) {
  GUARDED(env, return handle(add_rms_norm(tensor(x), at::Tensor(), tensor(weight), eps).second);)
  return 0;
}

// the residual add and the next RMSNorm: {x + delta rounded to x's dtype, its norm}
JNIEXPORT jlongArray JNICALL Java_io_resident_model_NativeOps_addRmsNorm(JNIEnv* env, jclass, jlong x, jlong delta, jlong weight,
    jdouble eps) {
  GUARDED(env, {
    auto both = add_rms_norm(tensor(x), tensor(delta), tensor(weight), eps);
    jlong handles[2] = {handle(std::move(both.first)), handle(std::move(both.second))};
    jlongArray result = env->NewLongArray(2);
    env->SetLongArrayRegion(result, 0, 2, handles);
    return result;
  })
  return nullptr;
}

// SiLU(gate) * up of a fused [.., 2I] gate/up projection whose first half is the gate
JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_siluMul(JNIEnv* env, jclass, jlong gate_up) {
  GUARDED(env, return handle(silu_mul(tensor(gate_up)));)
  return 0;
}

// RoPE on the q and k heads of fused QKV rows [N, (H + 2 KVH) * D], k and v written to the cache rows of the N
// tokens; returns q [N, H, D]
JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_ropeAndCache(JNIEnv* env, jclass, jlong qkv, jlong cos, jlong sin,
    jlong rows, jlong keys, jlong values, jint heads, jint rotary) {
  GUARDED(env, return handle(rope_cache(tensor(qkv), tensor(cos), tensor(sin), tensor(rows), tensor(keys), tensor(values),
                                        heads, rotary));)
  return 0;
}

JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_decodeAttention(JNIEnv* env, jclass, jlong q, jlong keys,
    jlong values, jlong block_table, jlong seq_lens, jint block_size, jdouble scale) {
  GUARDED(env, return handle(decode_attention(tensor(q), tensor(keys), tensor(values), tensor(block_table),
                                              tensor(seq_lens), block_size, scale));)
  return 0;
}

// q [B*T, H, D] over the cache rows gather [B, L] (positions 0..L-1 of each sequence); a query at position p sees
// positions 0..p. Flash attention over each sequence's first p+1 rows (causal from the bottom right, as its chunk is
// the last of its keys) in half precision; libtorch's attention with a mask from the positions otherwise.
JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_prefillAttention(JNIEnv* env, jclass, jlong q, jlong keys,
    jlong values, jlong gather, jlong positions, jdouble scale) {
  GUARDED(env, {
    const at::Tensor& rows = tensor(gather);
    const at::Tensor& query = tensor(q);
    int64_t b = rows.size(0), length = rows.size(1), n = query.size(0), t = n / b;
    int64_t heads = query.size(1), d = query.size(2), kv_heads = tensor(keys).size(1);
    if (query.scalar_type() != at::kFloat && d <= 256) {
      // keys of sequence i take rows [i*L, i*L + used_i) of the gathered rows; used_i is its last query's position + 1
      auto options = rows.options().dtype(at::kInt);
      at::Tensor cum_q = at::arange(0, (b + 1) * t, t, options);
      at::Tensor cum_k = at::arange(0, (b + 1) * length, length, options);
      at::Tensor used = tensor(positions).view({b, t}).select(1, t - 1).add(1).to(at::kInt);
      at::Tensor flat = rows.reshape({-1});
      at::Tensor out = std::get<0>(at::_flash_attention_forward(query, tensor(keys).index_select(0, flat),
          tensor(values).index_select(0, flat), cum_q, cum_k, t, length, 0.0, true, false, scale, std::nullopt,
          std::nullopt, used));
      return handle(out.reshape({n, heads * d}));
    }
    auto per_head = [&](const at::Tensor& cache) {
      at::Tensor kv = cache.index_select(0, rows.reshape({-1})).view({b, length, kv_heads, d}).transpose(1, 2);
      return heads == kv_heads ? kv : kv.repeat_interleave(heads / kv_heads, 1);
    };
    at::Tensor seen = at::arange(length, tensor(positions).options()).view({1, 1, 1, length})
                          .le(tensor(positions).reshape({b, 1, t, 1}));
    at::Tensor out = at::scaled_dot_product_attention(query.reshape({b, t, heads, d}).transpose(1, 2), per_head(tensor(keys)),
                                                      per_head(tensor(values)), seen, 0.0, false, scale);
    return handle(out.transpose(1, 2).reshape({n, heads * d}));
  })
  return 0;
}

// values into an int64 device tensor (the static inputs of a graph), before the step that reads them
JNIEXPORT void JNICALL Java_io_resident_model_NativeOps_copyFromHost(JNIEnv* env, jclass, jlong dst, jlongArray values) {
  jsize n = env->GetArrayLength(values);
  jlong* data = env->GetLongArrayElements(values, nullptr);
  GUARDED(env, {
    at::Tensor target = tensor(dst);
    TORCH_CHECK(target.numel() == n && target.is_contiguous(), "copyFromHost: ", n, " values for ", target.numel(), " elements");
    target.view({n}).copy_(at::from_blob(data, {n}, at::kLong));
  })
  env->ReleaseLongArrayElements(values, data, JNI_ABORT);
}

// switches the calling thread to a side stream (warm-up and capture run there); graphEnd switches back
JNIEXPORT jlong JNICALL Java_io_resident_model_NativeOps_graphBegin(JNIEnv* env, jclass, jint device) {
  GUARDED(env, {
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    static c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(device));
    auto* capture = new Capture();
    capture->previous = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device));
    AT_CUDA_CHECK(cudaDeviceSynchronize());
    c10::cuda::setCurrentCUDAStream(side);
    return reinterpret_cast<jlong>(capture);
  })
  return 0;
}

JNIEXPORT void JNICALL Java_io_resident_model_NativeOps_graphCapture(JNIEnv* env, jclass, jlong h) {
  auto* capture = reinterpret_cast<Capture*>(h);
  // thread-local: other threads (memory gauges) may call CUDA while the engine thread captures
  GUARDED(env, {
    capture->graph.capture_begin(graph_pool(), cudaStreamCaptureModeThreadLocal);
    capture->capturing = true;
    capture->pooled = true;
    pooled_graphs++;
  })
}

JNIEXPORT void JNICALL Java_io_resident_model_NativeOps_graphEnd(JNIEnv* env, jclass, jlong h) {
  auto* capture = reinterpret_cast<Capture*>(h);
  GUARDED(env, {
    try {
      if (capture->capturing) {
        capture->capturing = false;
        capture->graph.capture_end();
      }
    } catch (...) {
      c10::cuda::setCurrentCUDAStream(*capture->previous);
      throw;
    }
    AT_CUDA_CHECK(cudaDeviceSynchronize());
    c10::cuda::setCurrentCUDAStream(*capture->previous);
  })
}

JNIEXPORT void JNICALL Java_io_resident_model_NativeOps_graphReplay(JNIEnv* env, jclass, jlong h) {
  GUARDED(env, reinterpret_cast<Capture*>(h)->graph.replay();)
}

JNIEXPORT void JNICALL Java_io_resident_model_NativeOps_graphDestroy(JNIEnv* env, jclass, jlong h) {
  auto* capture = reinterpret_cast<Capture*>(h);
  pooled_graphs -= capture->pooled ? 1 : 0;
  GUARDED(env, delete capture;)
}

}  // extern "C"
