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

constexpr int CHUNK = 64;
constexpr int THREADS = 128;
// lanes that share one position's dot products: a warp scores four positions at once, three shuffles a dot
constexpr int LANES = 8;

// a block: the query heads of one KV head (their rows in shared memory) over CHUNK positions; scores, then the
// chunk's softmax statistics, then its probability-weighted values, all in float32
template <typename T, int D>
__global__ void chunk_kernel(const T* __restrict__ q, const T* __restrict__ keys, const T* __restrict__ values,
                             const int* __restrict__ table, const int* __restrict__ lens, int max_blocks, int block_size,
                             int kv_heads, int group, int splits, float scale, float* __restrict__ part_out,
                             float* __restrict__ part_max, float* __restrict__ part_sum) {
  extern __shared__ float shared[];
  float* sq = shared;                             // [group][D]
  float* scores = sq + group * D;                 // [group][CHUNK]
  long* rows = reinterpret_cast<long*>(scores + group * CHUNK);  // [CHUNK]
  const int b = blockIdx.x, kvh = blockIdx.y, split = blockIdx.z;
  const int start = split * CHUNK, count = min(CHUNK, lens[b] - start);
  if (count <= 0) {
    return;  // the merge reads only the chunks a length covers
  }
  const T* qb = q + ((long)b * kv_heads + kvh) * group * D;
  for (int i = threadIdx.x; i < group * D; i += blockDim.x) sq[i] = static_cast<float>(qb[i]);
  for (int j = threadIdx.x; j < count; j += blockDim.x) {
    const int p = start + j;
    rows[j] = ((long)table[(long)b * max_blocks + p / block_size] * block_size + p % block_size) * kv_heads + kvh;
  }
  __syncthreads();

  // lane l of a group holds elements l, l + LANES, ... of its position's key
  constexpr int E = D / LANES;
  const int sub = threadIdx.x / LANES, lane = threadIdx.x % LANES, subs = blockDim.x / LANES;
  for (int base = 0; base < count; base += subs) {  // every lane goes round alike: the shuffles need the whole warp
    const int j = base + sub;
    const bool valid = j < count;
    float k[E];
    const T* kp = keys + (valid ? rows[j] : 0) * D + lane;
#pragma unroll
    for (int i = 0; i < E; i++) k[i] = valid ? static_cast<float>(kp[i * LANES]) : 0.f;
    for (int g = 0; g < group; g++) {
      const float* qg = sq + g * D + lane;
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < E; i++) dot += qg[i * LANES] * k[i];
#pragma unroll
      for (int o = LANES / 2; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffff, dot, o);
      if (valid && lane == 0) scores[g * CHUNK + j] = dot * scale;
    }
  }
  __syncthreads();

  const long part = ((long)(b * kv_heads + kvh) * splits + split) * group;  // [B, KVH, S, group]
  const int warp = threadIdx.x / 32, warps = blockDim.x / 32, wl = threadIdx.x % 32;
  for (int g = warp; g < group; g += warps) {
    float m = -FLT_MAX;
    for (int j = wl; j < count; j += 32) m = fmaxf(m, scores[g * CHUNK + j]);
    for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
    float sum = 0.f;
    for (int j = wl; j < count; j += 32) {
      float e = __expf(scores[g * CHUNK + j] - m);
      scores[g * CHUNK + j] = e;
      sum += e;
    }
    for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffff, sum, o);
    if (wl == 0) {
      part_max[part + g] = m;
      part_sum[part + g] = sum;
    }
  }
  __syncthreads();

  // consecutive threads take consecutive elements of a head's output, so value loads coalesce
  for (int e = threadIdx.x; e < group * D; e += blockDim.x) {
    const int g = e / D, d = e % D;
    const float* w = scores + g * CHUNK;
    float acc = 0.f;
#pragma unroll 8
    for (int j = 0; j < count; j++) acc += w[j] * static_cast<float>(values[rows[j] * D + d]);
    part_out[(part + g) * D + d] = acc;
  }
}

template <typename T>
__global__ void merge_kernel(const float* __restrict__ part_out, const float* __restrict__ part_max,
                             const float* __restrict__ part_sum, const int* __restrict__ lens, int kv_heads, int group,
                             int d, int splits, T* __restrict__ out) {
  const int b = blockIdx.x, h = blockIdx.y, kvh = h / group, g = h % group;
  const int used = min(splits, (lens[b] + CHUNK - 1) / CHUNK);
  const long base = (long)(b * kv_heads + kvh) * splits;
  float m = -FLT_MAX;
  for (int s = 0; s < used; s++) m = fmaxf(m, part_max[(base + s) * group + g]);
  for (int e = threadIdx.x; e < d; e += blockDim.x) {
    float num = 0.f, den = 0.f;
    for (int s = 0; s < used; s++) {
      long i = (base + s) * group + g;
      float w = __expf(part_max[i] - m);
      num += w * part_out[i * d + e];
      den += w * part_sum[i];
    }
    out[((long)b * kv_heads * group + h) * d + e] = static_cast<T>(den > 0.f ? num / den : 0.f);
  }
}

template <typename T, int D>
void launch_chunks(dim3 grid, size_t shared, cudaStream_t stream, const at::Tensor& q, const at::Tensor& keys,
                   const at::Tensor& values, const at::Tensor& table, const at::Tensor& lens, int block_size, float scale,
                   int splits, at::Tensor& part_out, at::Tensor& part_max, at::Tensor& part_sum) {
  chunk_kernel<T, D><<<grid, THREADS, shared, stream>>>(
      q.data_ptr<T>(), keys.data_ptr<T>(), values.data_ptr<T>(), table.data_ptr<int>(), lens.data_ptr<int>(),
      table.size(1), block_size, keys.size(1), q.size(1) / keys.size(1), splits, scale,
      part_out.data_ptr<float>(), part_max.data_ptr<float>(), part_sum.data_ptr<float>());
}

template <typename T>
void launch(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, const at::Tensor& table,
            const at::Tensor& lens, int block_size, float scale, at::Tensor& out) {
  const int b = q.size(0), heads = q.size(1), d = q.size(2), kv_heads = keys.size(1), group = heads / kv_heads;
  const int max_blocks = table.size(1);
  const int splits = (max_blocks * block_size + CHUNK - 1) / CHUNK;
  const size_t shared = (size_t)group * (d + CHUNK) * sizeof(float) + CHUNK * sizeof(long);
  TORCH_CHECK(shared <= 48 * 1024, "decode attention: ", group, " query heads of size ", d, " per KV head are too many");
  auto f32 = q.options().dtype(at::kFloat);
  at::Tensor part_out = at::empty({b, kv_heads, splits, group, d}, f32);
  at::Tensor part_max = at::empty({b, kv_heads, splits, group}, f32);
  at::Tensor part_sum = at::empty({b, kv_heads, splits, group}, f32);
  auto stream = at::cuda::getCurrentCUDAStream();
  const dim3 grid(b, kv_heads, splits);
  switch (d) {
    case 16: launch_chunks<T, 16>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 32: launch_chunks<T, 32>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 64: launch_chunks<T, 64>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 128: launch_chunks<T, 128>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 256: launch_chunks<T, 256>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    default: TORCH_CHECK(false, "decode attention: head size ", d, " is not one of 16, 32, 64, 128, 256");
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  merge_kernel<T><<<dim3(b, heads), std::min(d, 1024), 0, stream>>>(part_out.data_ptr<float>(), part_max.data_ptr<float>(),
                                                                 part_sum.data_ptr<float>(), lens.data_ptr<int>(), kv_heads,
                                                                 group, d, splits, out.data_ptr<T>());
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
