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
constexpr int MERGE_THREADS = 128;

// a block: the query heads of one KV head (their rows in shared memory) over CHUNK positions; scores, then the
// chunk's softmax statistics, then its probability-weighted values, all in float32. G is how many heads' value sums
// one thread keeps: each value element is loaded once for G independent sums.
template <typename T, int D, int G>
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

  // lane l of a position's LANES holds the 16-byte pieces l, l + LANES, ... of its key: one load a piece
  constexpr int V = 16 / sizeof(T), PIECES = D / V, PER_LANE = (PIECES + LANES - 1) / LANES;
  const int sub = threadIdx.x / LANES, lane = threadIdx.x % LANES, subs = blockDim.x / LANES;
  for (int base = 0; base < count; base += subs) {  // every lane goes round alike: the shuffles need the whole warp
    const int j = base + sub;
    const bool valid = j < count;
    float k[PER_LANE][V];
#pragma unroll
    for (int p = 0; p < PER_LANE; p++) {
      const int piece = lane + p * LANES;
      uint4 raw = make_uint4(0, 0, 0, 0);
      if (valid && piece < PIECES) raw = *reinterpret_cast<const uint4*>(keys + rows[j] * D + piece * V);
      const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
      for (int i = 0; i < V; i++) k[p][i] = static_cast<float>(e[i]);
    }
    for (int g = 0; g < group; g++) {
      float dot = 0.f;
#pragma unroll
      for (int p = 0; p < PER_LANE; p++) {
        const int piece = lane + p * LANES;
        if (piece < PIECES) {
          const float4* qp = reinterpret_cast<const float4*>(sq + g * D + piece * V);
#pragma unroll
          for (int i = 0; i < V / 4; i++) {
            const float4 f = qp[i];
            dot += f.x * k[p][4 * i] + f.y * k[p][4 * i + 1] + f.z * k[p][4 * i + 2] + f.w * k[p][4 * i + 3];
          }
        }
      }
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

  // a work item is one element d of G heads; consecutive threads take consecutive d, so value loads coalesce
  const int items = D * ((group + G - 1) / G);
  for (int it = threadIdx.x; it < items; it += blockDim.x) {
    const int d = it % D, g0 = it / D * G;
    float acc[G] = {};
    for (int j = 0; j < count; j++) {
      const float v = static_cast<float>(values[rows[j] * D + d]);
#pragma unroll
      for (int h = 0; h < G; h++) acc[h] += scores[min(g0 + h, group - 1) * CHUNK + j] * v;
    }
#pragma unroll
    for (int h = 0; h < G; h++) {
      if (g0 + h < group) part_out[(part + g0 + h) * D + d] = acc[h];
    }
  }
}

// one block a (sequence, head): the largest chunk maximum by a block reduction, each chunk's weight once into shared
// memory, then every output element sums its chunks with loads that do not wait on one another
template <typename T>
__global__ void merge_kernel(const float* __restrict__ part_out, const float* __restrict__ part_max,
                             const float* __restrict__ part_sum, const int* __restrict__ lens, int kv_heads, int group,
                             int d, int splits, T* __restrict__ out) {
  extern __shared__ float weight[];  // [splits], then one float a warp
  float* reduce = weight + splits;
  const int b = blockIdx.x, h = blockIdx.y, kvh = h / group, g = h % group;
  const int used = min(splits, (lens[b] + CHUNK - 1) / CHUNK);
  const long base = (long)(b * kv_heads + kvh) * splits;
  const int wl = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  float m = -FLT_MAX;
  for (int s = threadIdx.x; s < used; s += blockDim.x) m = fmaxf(m, part_max[(base + s) * group + g]);
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
  if (wl == 0) reduce[warp] = m;
  __syncthreads();
  m = -FLT_MAX;
  for (int w = 0; w < warps; w++) m = fmaxf(m, reduce[w]);
  float den = 0.f;
  for (int s = threadIdx.x; s < used; s += blockDim.x) {
    const long i = (base + s) * group + g;
    weight[s] = __expf(part_max[i] - m);
    den += weight[s] * part_sum[i];
  }
  for (int o = 16; o > 0; o /= 2) den += __shfl_xor_sync(0xffffffff, den, o);
  __syncthreads();  // every thread has read reduce[] for m
  if (wl == 0) reduce[warp] = den;
  __syncthreads();
  den = 0.f;
  for (int w = 0; w < warps; w++) den += reduce[w];
  for (int e = threadIdx.x; e < d; e += blockDim.x) {
    float num = 0.f;
#pragma unroll 8
    for (int s = 0; s < used; s++) num += weight[s] * part_out[((base + s) * group + g) * d + e];
    out[((long)b * kv_heads * group + h) * d + e] = static_cast<T>(den > 0.f ? num / den : 0.f);
  }
}

template <typename T, int D, int G>
void launch_chunks(dim3 grid, size_t shared, cudaStream_t stream, const at::Tensor& q, const at::Tensor& keys,
                   const at::Tensor& values, const at::Tensor& table, const at::Tensor& lens, int block_size, float scale,
                   int splits, at::Tensor& part_out, at::Tensor& part_max, at::Tensor& part_sum) {
  chunk_kernel<T, D, G><<<grid, THREADS, shared, stream>>>(
      q.data_ptr<T>(), keys.data_ptr<T>(), values.data_ptr<T>(), table.data_ptr<int>(), lens.data_ptr<int>(),
      table.size(1), block_size, keys.size(1), q.size(1) / keys.size(1), splits, scale,
      part_out.data_ptr<float>(), part_max.data_ptr<float>(), part_sum.data_ptr<float>());
}

// G from the group: 4 heads a thread for groups up to 4 (Llama, Mistral), else 8 (Qwen2; ChatGLM3's 16 in two items),
// as 16 sums a thread would take registers enough to halve the blocks an SM holds
template <typename T, int D>
void launch_group(int group, dim3 grid, size_t shared, cudaStream_t stream, const at::Tensor& q, const at::Tensor& keys,
                  const at::Tensor& values, const at::Tensor& table, const at::Tensor& lens, int block_size, float scale,
                  int splits, at::Tensor& part_out, at::Tensor& part_max, at::Tensor& part_sum) {
  if (group <= 4) {
    launch_chunks<T, D, 4>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  } else {
    launch_chunks<T, D, 8>(grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum);
  }
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
    case 16: launch_group<T, 16>(group, grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 32: launch_group<T, 32>(group, grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 64: launch_group<T, 64>(group, grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 128: launch_group<T, 128>(group, grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    case 256: launch_group<T, 256>(group, grid, shared, stream, q, keys, values, table, lens, block_size, scale, splits, part_out, part_max, part_sum); break;
    default: TORCH_CHECK(false, "decode attention: head size ", d, " is not one of 16, 32, 64, 128, 256");
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const size_t merge_shared = (splits + MERGE_THREADS / 32) * sizeof(float);
  merge_kernel<T><<<dim3(b, heads), MERGE_THREADS, merge_shared, stream>>>(part_out.data_ptr<float>(), part_max.data_ptr<float>(),
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
