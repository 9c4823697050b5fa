// RMSNorm, SiLU-and-multiply and RoPE with the KV-cache write in one kernel each, rounding where HF's PyTorch code
// rounds: a decode step of a 6B model runs about 600 fewer kernels than the same ops composed from libtorch's.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace {

constexpr int THREADS = 256;
// a decode row is one block: wide, so that each thread has few elements and its loads are in flight together
constexpr int NORM_THREADS = 1024;

// one block per row: x / rms(x) in float32, rounded to T, times the weight, rounded to T; with a delta, x is first
// x + delta rounded to T (the residual add before the norm), written to sum
template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ delta, const T* __restrict__ weight, int hidden,
                                float eps, T* __restrict__ sum_out, T* __restrict__ out) {
  __shared__ float partial[NORM_THREADS / 32];
  const long offset = (long)blockIdx.x * hidden;
  const T* row = x + offset;
  if (delta != nullptr) {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
      sum_out[offset + i] = static_cast<T>(static_cast<float>(row[i]) + static_cast<float>(delta[offset + i]));
    }
    row = sum_out + offset;  // each thread reads back only the elements it wrote
  }
  float sum = 0.f;
#pragma unroll 4
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    float v = static_cast<float>(row[i]);
    sum += v * v;
  }
  for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffff, sum, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    sum = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.f;
    for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffff, sum, o);
    if (threadIdx.x == 0) partial[0] = rsqrtf(sum / hidden + eps);
  }
  __syncthreads();
  const float scale = partial[0];
  T* dst = out + offset;
#pragma unroll 4
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    T normed = static_cast<T>(static_cast<float>(row[i]) * scale);
    dst[i] = static_cast<T>(static_cast<float>(normed) * static_cast<float>(weight[i]));
  }
}

// gate_up [rows, 2I] whose first half is the gate: SiLU(gate) rounded to T, times up, rounded to T
template <typename T>
__global__ void silu_mul_kernel(const T* __restrict__ gate_up, long rows, int inter, T* __restrict__ out) {
  long total = rows * inter;
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
    long r = i / inter;
    int c = i % inter;
    float g = static_cast<float>(gate_up[r * 2 * inter + c]);
    T silu = static_cast<T>(g / (1.f + __expf(-g)));
    out[i] = static_cast<T>(static_cast<float>(silu) * static_cast<float>(gate_up[r * 2 * inter + inter + c]));
  }
}

// one block a (token, head) of the fused QKV rows [N, (H + 2 KVH) * D], a thread an element: q and k heads get
// x * cos + rotate_half(x) * sin with each product and the sum rounded to T (HF's order), the first rotary dims
// rotated and the rest passed on (the tables hold cos 1, sin 0 there); q goes to out [N, H, D], k and v to the
// token's cache row
template <typename T>
__global__ void rope_cache_kernel(const T* __restrict__ qkv, const T* __restrict__ cos, const T* __restrict__ sin,
                                  const int64_t* __restrict__ rows, int64_t row_stride, int heads, int kv_heads, int d,
                                  int rotary, T* __restrict__ out, T* __restrict__ keys, T* __restrict__ values) {
  const long n = blockIdx.x;
  const int head = blockIdx.y, i = threadIdx.x, half = rotary / 2;
  const T* x = qkv + (n * (heads + 2 * kv_heads) + head) * d;
  if (head >= heads + kv_heads) {
    values[(rows[n * row_stride] * kv_heads + head - heads - kv_heads) * d + i] = x[i];
    return;
  }
  const float rotated = i < half ? -static_cast<float>(x[i + half]) : i < rotary ? static_cast<float>(x[i - half]) : 0.f;
  const T a = static_cast<T>(static_cast<float>(x[i]) * static_cast<float>(cos[n * d + i]));
  const T b = static_cast<T>(rotated * static_cast<float>(sin[n * d + i]));
  const T y = static_cast<T>(static_cast<float>(a) + static_cast<float>(b));
  if (head < heads) {
    out[(n * heads + head) * d + i] = y;
  } else {
    keys[(rows[n * row_stride] * kv_heads + head - heads) * d + i] = y;
  }
}

template <typename F>
void dispatch(at::ScalarType type, F&& f) {
  switch (type) {
    case at::kHalf: f(at::Half()); break;
    case at::kBFloat16: f(at::BFloat16()); break;
    case at::kFloat: f(float()); break;
    default: TORCH_CHECK(false, "unsupported dtype ", type);
  }
}

}  // namespace

// HF's RMSNorm of x, or of x + delta (rounded to x's dtype) where delta is defined: returns {the sum (x where no
// delta), the norm}
std::pair<at::Tensor, at::Tensor> add_rms_norm(const at::Tensor& x_in, const at::Tensor& delta_in, const at::Tensor& weight,
                                               double eps) {
  if (!x_in.is_cuda() || weight.scalar_type() != x_in.scalar_type()) {
    at::Tensor sum = delta_in.defined() ? x_in + delta_in : x_in;
    at::Tensor xf = sum.to(at::kFloat);  // as HF writes it, where the weight's dtype differs (kept float32) or on the CPU
    return {sum, (xf * at::rsqrt(xf.pow(2).mean({-1}, true) + eps)).to(x_in.scalar_type()) * weight};
  }
  at::Tensor x = x_in.contiguous(), w = weight.contiguous();
  at::Tensor delta = delta_in.defined() ? delta_in.contiguous() : delta_in;
  TORCH_CHECK(!delta.defined() || delta.sizes() == x.sizes(), "RMSNorm: a residual of ", delta.sizes(), " for ", x.sizes());
  at::Tensor out = at::empty_like(x);
  at::Tensor sum = delta.defined() ? at::empty_like(x) : x;
  int hidden = x.size(-1);
  long rows = x.numel() / hidden;
  dispatch(x.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    rms_norm_kernel<T><<<(unsigned)rows, NORM_THREADS, 0, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<T>(), delta.defined() ? delta.data_ptr<T>() : nullptr, w.data_ptr<T>(), hidden, static_cast<float>(eps),
        delta.defined() ? sum.data_ptr<T>() : nullptr, out.data_ptr<T>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {sum, out};
}

at::Tensor silu_mul(const at::Tensor& gate_up_in) {
  int64_t inter = gate_up_in.size(-1) / 2;
  if (!gate_up_in.is_cuda()) {
    return at::silu(gate_up_in.narrow(-1, 0, inter)) * gate_up_in.narrow(-1, inter, inter);
  }
  at::Tensor gate_up = gate_up_in.contiguous();
  std::vector<int64_t> shape(gate_up.sizes().begin(), gate_up.sizes().end());
  shape.back() = inter;
  at::Tensor out = at::empty(shape, gate_up.options());
  long rows = gate_up.numel() / (2 * inter);
  long total = rows * inter;
  int blocks = (int)std::min<long>((total + THREADS - 1) / THREADS, 65535);
  dispatch(gate_up.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    silu_mul_kernel<T><<<blocks, THREADS, 0, at::cuda::getCurrentCUDAStream()>>>(gate_up.data_ptr<T>(), rows, (int)inter,
                                                                              out.data_ptr<T>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor rope_cache(const at::Tensor& qkv_in, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& rows,
                      const at::Tensor& keys, const at::Tensor& values, int64_t heads, int64_t rotary) {
  TORCH_CHECK(qkv_in.is_cuda() && keys.is_contiguous() && values.is_contiguous(), "RoPE and cache: CUDA tensors, a contiguous cache");
  TORCH_CHECK(rows.scalar_type() == at::kLong && rows.dim() == 1, "RoPE and cache: int64 rows, one a token");
  const int64_t kv_heads = keys.size(1), d = keys.size(2), n = rows.size(0);
  TORCH_CHECK(d <= 1024 && qkv_in.numel() == n * (heads + 2 * kv_heads) * d, "RoPE and cache: ", n, " tokens of ", heads,
              " + 2 x ", kv_heads, " heads of ", d, " do not fit ", qkv_in.sizes());
  at::Tensor qkv = qkv_in.contiguous(), c = cos.contiguous(), s = sin.contiguous();
  TORCH_CHECK(c.scalar_type() == qkv.scalar_type() && c.numel() == n * d && s.numel() == n * d, "RoPE and cache: tables of ", n, " x ", d);
  at::Tensor out = at::empty({n, heads, d}, qkv.options());
  if (n == 0) {
    return out;
  }
  dispatch(qkv.scalar_type(), [&](auto tag) {
    using T = decltype(tag);
    rope_cache_kernel<T><<<dim3((unsigned)n, (unsigned)(heads + 2 * kv_heads)), (unsigned)d, 0, at::cuda::getCurrentCUDAStream()>>>(
        qkv.data_ptr<T>(), c.data_ptr<T>(), s.data_ptr<T>(), rows.data_ptr<int64_t>(), rows.stride(0), (int)heads, (int)kv_heads,
        (int)d, (int)rotary, out.data_ptr<T>(), keys.data_ptr<T>(), values.data_ptr<T>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}
