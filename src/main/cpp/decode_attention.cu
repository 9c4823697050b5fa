// Decode attention over a paged KV cache: one query token per sequence, keys and values read through a block table
// (cache row of position p = table[b][p / blockSize] * blockSize + p % blockSize), up to each sequence's length,
// which is read on the device so a captured graph serves any length. Split over the sequence (flash-decoding):
// each block scores CHUNK positions for the query heads of one KV head, a second kernel merges the chunks.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cfloat>

namespace {

constexpr int CHUNK = 128;
constexpr int THREADS = 128;

// the K elements lane, lane + 32, ... of one head of position p's cache row, in float32 (0 past d)
template <typename T, int K>
__device__ __forceinline__ void load_head(const T* __restrict__ cache, const int* __restrict__ table, int b, int max_blocks,
                                          int block_size, int p, int kv_heads, int kvh, int d, int lane, float (&out)[K]) {
  long row = (long)table[b * max_blocks + p / block_size] * block_size + p % block_size;
  const T* head = cache + (row * kv_heads + kvh) * d;
#pragma unroll
  for (int k = 0; k < K; k++) out[k] = lane + 32 * k < d ? static_cast<float>(head[lane + 32 * k]) : 0.f;
}

// K = ceil(d / 32) elements of a head per lane; G query heads of one KV head per block (a larger group takes several
// blocks), their query and output slices held in registers; warps take positions in turn, so loads of different
// positions are in flight together
template <typename T, int K, int G>
__global__ void chunk_kernel(const T* __restrict__ q, const T* __restrict__ keys, const T* __restrict__ values,
                             const int* __restrict__ table, const int* __restrict__ lens, int max_blocks, int block_size,
                             int kv_heads, int group, int d, int splits, float scale, float* __restrict__ part_out,
                             float* __restrict__ part_max, float* __restrict__ part_sum) {
  __shared__ float scores[G * CHUNK];
  __shared__ float acc[G * K * 32];
  const int chunks = (group + G - 1) / G;
  const int b = blockIdx.x, kvh = blockIdx.y / chunks, g0 = (blockIdx.y % chunks) * G, split = blockIdx.z;
  const int gn = min(G, group - g0);
  const int len = lens[b];
  const int start = split * CHUNK;
  const int count = min(CHUNK, len - start);
  const long part = ((long)(b * kv_heads + kvh) * splits + split) * group + g0;  // [B, KVH, S, group]
  if (count <= 0) {
    for (int g = threadIdx.x; g < gn; g += blockDim.x) {
      part_max[part + g] = -FLT_MAX;
      part_sum[part + g] = 0.f;
    }
    return;
  }
  const int heads = kv_heads * group;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  float qr[G][K];
#pragma unroll
  for (int g = 0; g < G; g++) {
#pragma unroll
    for (int k = 0; k < K; k++) {
      int e = lane + 32 * k;
      qr[g][k] = g < gn && e < d ? static_cast<float>(q[((long)b * heads + kvh * group + g0 + g) * d + e]) : 0.f;
    }
  }
  for (int i = threadIdx.x; i < G * K * 32; i += blockDim.x) acc[i] = 0.f;
  for (int j = warp; j < count; j += warps) {
    float kv[K];
    load_head<T, K>(keys, table, b, max_blocks, block_size, start + j, kv_heads, kvh, d, lane, kv);
#pragma unroll
    for (int g = 0; g < G; g++) {
      if (g < gn) {
        float dot = 0.f;
#pragma unroll
        for (int k = 0; k < K; k++) dot += qr[g][k] * kv[k];
        for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffff, dot, o);
        if (lane == 0) scores[g * CHUNK + j] = dot * scale;
      }
    }
  }
  __syncthreads();
  for (int g = warp; g < gn; g += warps) {
    float m = -FLT_MAX;
    for (int j = lane; j < count; j += 32) m = fmaxf(m, scores[g * CHUNK + j]);
    for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
    float s = 0.f;
    for (int j = lane; j < count; j += 32) {
      float e = __expf(scores[g * CHUNK + j] - m);
      scores[g * CHUNK + j] = e;
      s += e;
    }
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffff, s, o);
    if (lane == 0) {
      part_max[part + g] = m;
      part_sum[part + g] = s;
    }
  }
  __syncthreads();
  float out[G][K];
#pragma unroll
  for (int g = 0; g < G; g++) {
#pragma unroll
    for (int k = 0; k < K; k++) out[g][k] = 0.f;
  }
  for (int j = warp; j < count; j += warps) {
    float vv[K];
    load_head<T, K>(values, table, b, max_blocks, block_size, start + j, kv_heads, kvh, d, lane, vv);
#pragma unroll
    for (int g = 0; g < G; g++) {
      float w = g < gn ? scores[g * CHUNK + j] : 0.f;
#pragma unroll
      for (int k = 0; k < K; k++) out[g][k] += w * vv[k];
    }
  }
#pragma unroll
  for (int g = 0; g < G; g++) {
#pragma unroll
    for (int k = 0; k < K; k++) {
      if (g < gn) atomicAdd(&acc[g * K * 32 + k * 32 + lane], out[g][k]);
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < gn * d; i += blockDim.x) {
    int g = i / d, e = i % d;
    part_out[(part + g) * d + e] = acc[g * K * 32 + (e / 32) * 32 + e % 32];
  }
}

template <typename T>
__global__ void merge_kernel(const float* __restrict__ part_out, const float* __restrict__ part_max,
                             const float* __restrict__ part_sum, int kv_heads, int group, int d, int splits,
                             T* __restrict__ out) {
  const int b = blockIdx.x, h = blockIdx.y, kvh = h / group, g = h % group;
  const long base = (long)(b * kv_heads + kvh) * splits;
  float m = -FLT_MAX;
  for (int s = 0; s < splits; s++) {
    if (part_sum[(base + s) * group + g] > 0.f) m = fmaxf(m, part_max[(base + s) * group + g]);
  }
  for (int e = threadIdx.x; e < d; e += blockDim.x) {
    float num = 0.f, den = 0.f;
    for (int s = 0; s < splits; s++) {
      long i = (base + s) * group + g;
      float l = part_sum[i];
      if (l > 0.f) {
        float w = __expf(part_max[i] - m);
        num += w * part_out[i * d + e];
        den += w * l;
      }
    }
    out[((long)b * kv_heads * group + h) * d + e] = static_cast<T>(den > 0.f ? num / den : 0.f);
  }
}

template <typename T, int K, int G>
void launch_chunks(dim3 grid, cudaStream_t stream, const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                   const at::Tensor& table, const at::Tensor& lens, int block_size, float scale, int splits,
                   at::Tensor& part_out, at::Tensor& part_max, at::Tensor& part_sum) {
  chunk_kernel<T, K, G><<<grid, THREADS, 0, stream>>>(
      q.data_ptr<T>(), keys.data_ptr<T>(), values.data_ptr<T>(), table.data_ptr<int>(), lens.data_ptr<int>(),
      table.size(1), block_size, keys.size(1), q.size(1) / keys.size(1), q.size(2), splits, scale,
      part_out.data_ptr<float>(), part_max.data_ptr<float>(), part_sum.data_ptr<float>());
}

template <typename T>
void launch(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, const at::Tensor& table,
            const at::Tensor& lens, int block_size, float scale, at::Tensor& out) {
  const int b = q.size(0), heads = q.size(1), d = q.size(2), kv_heads = keys.size(1), group = heads / kv_heads;
  const int max_blocks = table.size(1);
  const int splits = (max_blocks * block_size + CHUNK - 1) / CHUNK;
  auto f32 = q.options().dtype(at::kFloat);
  at::Tensor part_out = at::empty({b, kv_heads, splits, group, d}, f32);
  at::Tensor part_max = at::empty({b, kv_heads, splits, group}, f32);
  at::Tensor part_sum = at::empty({b, kv_heads, splits, group}, f32);
  auto stream = at::cuda::getCurrentCUDAStream();
  // query heads per block: 16 (8 for heads of 256), in registers
  auto grid = [&](int g) { return dim3(b, kv_heads * ((group + g - 1) / g), splits); };
  if (d <= 32) {
    launch_chunks<T, 1, 16>(grid(16), stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  } else if (d <= 64) {
    launch_chunks<T, 2, 16>(grid(16), stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  } else if (d <= 128) {
    launch_chunks<T, 4, 16>(grid(16), stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  } else {
    TORCH_CHECK(d <= 256, "decode attention: head size ", d, " over 256");
    launch_chunks<T, 8, 8>(grid(8), stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  merge_kernel<T><<<dim3(b, heads), std::min(d, 1024), 0, stream>>>(part_out.data_ptr<float>(), part_max.data_ptr<float>(),
                                                                 part_sum.data_ptr<float>(), kv_heads, group, d, splits,
                                                                 out.data_ptr<T>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace

// q [B, H, D] (one token per sequence), keys/values [rows, KVH, D], block_table int32 [B, maxBlocks], seq_lens int32
// [B] (0: a padding row, output 0); returns [B, H*D] in q's dtype
at::Tensor decode_attention(const at::Tensor& q_in, const at::Tensor& keys, const at::Tensor& values,
                            const at::Tensor& block_table, const at::Tensor& seq_lens, int64_t block_size, double scale) {
  TORCH_CHECK(q_in.is_cuda() && keys.is_cuda() && values.is_cuda(), "decode attention runs on a CUDA device");
  TORCH_CHECK(keys.is_contiguous() && values.is_contiguous(), "the KV cache must be contiguous");
  TORCH_CHECK(block_table.scalar_type() == at::kInt && seq_lens.scalar_type() == at::kInt, "block table and lengths are int32");
  TORCH_CHECK(q_in.size(1) % keys.size(1) == 0, "query heads must be a multiple of KV heads");
  at::Tensor q = q_in.contiguous();
  at::Tensor table = block_table.contiguous(), lens = seq_lens.contiguous();
  at::Tensor out = at::empty_like(q);
  switch (q.scalar_type()) {
    case at::kHalf: launch<at::Half>(q, keys, values, table, lens, block_size, scale, out); break;
    case at::kBFloat16: launch<at::BFloat16>(q, keys, values, table, lens, block_size, scale, out); break;
    case at::kFloat: launch<float>(q, keys, values, table, lens, block_size, scale, out); break;
    default: TORCH_CHECK(false, "decode attention: unsupported dtype ", q.scalar_type());
  }
  return out.view({q.size(0), q.size(1) * q.size(2)});
}
