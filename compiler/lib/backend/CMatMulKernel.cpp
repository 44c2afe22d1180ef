// CMatMulKernel.cpp: the C text of the tiled kernel. Its blocking is Lowering.cpp's
// (kTileRows, kTileKC, kTileMCTiles, one 64-byte vector of columns).
#include "backend/CMatMulKernel.h"

#include "gradc/Diagnostics.h"

namespace gradc {

namespace {

// A tile of C is six named vectors under GCC and Clang (their vector extension: compilers do
// not keep an array of accumulators in registers reliably); other compilers get plain loops.
constexpr const char *kKernel = R"(/* C = A @ B: the tiled kernel gradc's compiled code uses (CMatMulKernel.h). */
static void NAME(int64_t m, int64_t n, int64_t k, const REAL *A, int64_t rsa, int64_t csa,
                 const REAL *B, int64_t rsb, REAL *C) {
  enum { MR = 6, NR = LANES, KC = 128, MCT = 7 };
  REAL apack[MCT * MR * KC], bpack[KC * NR], part[MR][NR];
  const int64_t mt = m / MR, kb = k > 0 ? (k + KC - 1) / KC : 1;
  int64_t blk, t0, t, p, j0, q, i, j;
  int r, c;
  for (blk = 0; blk < kb; ++blk) {
    const int64_t p0 = blk * KC, p1 = p0 + KC < k ? p0 + KC : k;
    for (t0 = 0; t0 < mt; t0 += MCT) {
      const int64_t t1 = t0 + MCT < mt ? t0 + MCT : mt;
      for (t = t0; t < t1; ++t)
        for (p = p0; p < p1; ++p)
          for (r = 0; r < MR; ++r)
            apack[((t - t0) * KC + (p - p0)) * MR + r] = A[(t * MR + r) * rsa + p * csa];
      for (j0 = 0; j0 < n; j0 += NR) {
        const int64_t jn = n - j0 < NR ? n - j0 : NR;
        for (p = p0; p < p1; ++p)
          for (c = 0; c < NR; ++c)
            bpack[(p - p0) * NR + c] = c < jn ? B[p * rsb + j0 + c] : (REAL)0;
        for (t = t0; t < t1; ++t) {
          REAL *const out = C + t * MR * n + j0;
          const REAL *ap = apack + (t - t0) * KC * MR, *bp = bpack;
          /* part: the tile's rows when they do not come straight from C */
          if (p0 == 0 || jn < NR)
            for (r = 0; r < MR; ++r)
              for (c = 0; c < NR; ++c)
                part[r][c] = p0 != 0 && c < jn ? out[r * n + c] : (REAL)0;
#if defined(__GNUC__)
          {
            typedef REAL vec __attribute__((vector_size(sizeof(REAL) * NR)));
            const int in = p0 != 0 && jn == NR, whole = jn == NR;
            const REAL *const src = in ? out : part[0];
            const int64_t ls = in ? n : NR;
            REAL *const dst = whole ? out : part[0];
            const int64_t ld = whole ? n : NR;
            vec c0, c1, c2, c3, c4, c5;
            __builtin_memcpy(&c0, src, sizeof c0), __builtin_memcpy(&c1, src + ls, sizeof c0);
            __builtin_memcpy(&c2, src + 2 * ls, sizeof c0), __builtin_memcpy(&c3, src + 3 * ls, sizeof c0);
            __builtin_memcpy(&c4, src + 4 * ls, sizeof c0), __builtin_memcpy(&c5, src + 5 * ls, sizeof c0);
            for (q = 0; q < p1 - p0; ++q, ap += MR, bp += NR) {
              vec b;
              __builtin_memcpy(&b, bp, sizeof b);
              c0 += ap[0] * b, c1 += ap[1] * b, c2 += ap[2] * b;
              c3 += ap[3] * b, c4 += ap[4] * b, c5 += ap[5] * b;
            }
            __builtin_memcpy(dst, &c0, sizeof c0), __builtin_memcpy(dst + ld, &c1, sizeof c0);
            __builtin_memcpy(dst + 2 * ld, &c2, sizeof c0), __builtin_memcpy(dst + 3 * ld, &c3, sizeof c0);
            __builtin_memcpy(dst + 4 * ld, &c4, sizeof c0), __builtin_memcpy(dst + 5 * ld, &c5, sizeof c0);
          }
#else
          if (p0 != 0 && jn == NR)
            for (r = 0; r < MR; ++r)
              for (c = 0; c < NR; ++c)
                part[r][c] = out[r * n + c];
          for (q = 0; q < p1 - p0; ++q, ap += MR, bp += NR)
            for (r = 0; r < MR; ++r)
              for (c = 0; c < NR; ++c)
                part[r][c] += ap[r] * bp[c];
          if (jn == NR)
            for (r = 0; r < MR; ++r)
              for (c = 0; c < NR; ++c)
                out[r * n + c] = part[r][c];
#endif
          if (jn < NR)
            for (r = 0; r < MR; ++r)
              for (c = 0; c < jn; ++c)
                out[r * n + c] = part[r][c];
        }
      }
    }
  }
  for (i = mt * MR; i < m; ++i) { /* the rows short of a tile */
    for (j = 0; j < n; ++j)
      C[i * n + j] = 0;
    for (p = 0; p < k; ++p) {
      const REAL a = A[i * rsa + p * csa];
      for (j = 0; j < n; ++j)
        C[i * n + j] += a * B[p * rsb + j];
    }
  }
}
)";

void replaceAll(std::string &s, const std::string &from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

} // namespace

std::string cMatMulKernelName(const std::string &prefix, DType dt) {
  GRADC_ASSERT(dt == DType::F64 || dt == DType::F32, "the matrix kernel is for floats");
  return prefix + (dt == DType::F64 ? "gradc_matmul_f64" : "gradc_matmul_f32");
}

std::string cMatMulKernelDefinition(const std::string &prefix, DType dt) {
  std::string s = kKernel;
  replaceAll(s, "NAME", cMatMulKernelName(prefix, dt));
  replaceAll(s, "LANES", dt == DType::F64 ? "8" : "16");
  replaceAll(s, "REAL", dt == DType::F64 ? "double" : "float");
  return s;
}

} // namespace gradc
