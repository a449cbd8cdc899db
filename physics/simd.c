/* simd.c - vector paths and their kernels (see simd.h). */
#include "simd.h"

#include <string.h>

#include "random.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SIMD_X86 1
#include <immintrin.h>
#endif

const char *simd_path_name(simd_path path)
{
    switch (path) {
    case SIMD_AVX2: return "avx2";
    case SIMD_AVX512: return "avx512";
    default: return "scalar";
    }
}

int simd_path_bits(simd_path path)
{
    return path == SIMD_AVX512 ? 512 : path == SIMD_AVX2 ? 256 : 64;
}

int simd_supported(simd_path path)
{
    switch (path) {
    case SIMD_SCALAR: return 1;
#if SIMD_X86
    /* libgcc's (and compiler-rt's) feature bits include the operating system's consent
     * (XGETBV): a CPU with AVX-512 under a kernel that does not save zmm registers says no. */
    case SIMD_AVX2: return __builtin_cpu_supports("avx2");
    case SIMD_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

simd_path simd_best(void)
{
    if (simd_supported(SIMD_AVX512)) return SIMD_AVX512;
    if (simd_supported(SIMD_AVX2)) return SIMD_AVX2;
    return SIMD_SCALAR;
}

int simd_path_parse(const char *name, simd_path *path)
{
    if (strcmp(name, "auto") == 0) {
        *path = simd_best();
        return 0;
    }
    for (int p = 0; p < SIMD_PATHS; p++)
        if (strcmp(name, simd_path_name((simd_path)p)) == 0) {
            *path = (simd_path)p;
            return 0;
        }
    return -1;
}

const char *simd_cpu_name(void)
{
#if SIMD_X86
    if (simd_supported(SIMD_AVX512)) return "AVX-512";
    if (simd_supported(SIMD_AVX2)) return "AVX2";
    return "SSE2";   /* part of x86-64 itself */
#else
    return "none";
#endif
}

int simd_cpu_bits(void)
{
#if SIMD_X86
    return simd_supported(SIMD_AVX512) ? 512 : simd_supported(SIMD_AVX2) ? 256 : 128;
#else
    return 0;
#endif
}

/* The counter word 3 of block j: its low RNG_BLOCK_BITS advanced by j, as j refills do. */
static inline uint32_t block_word3(uint32_t c3, unsigned j)
{
    return (c3 & ~RNG_BLOCK_MASK) | ((c3 + j) & RNG_BLOCK_MASK);
}

/* The reference: Random123's philox4x32, the very function rng_refill calls. */
static void fill_scalar(const uint32_t *c0, const uint32_t *c1, const uint32_t *c2,
                        const uint32_t *c3, uint32_t key0, uint32_t key1, uint32_t first,
                        uint32_t n, unsigned blocks, uint32_t *out)
{
    philox4x32_key_t key = {{key0, key1}};
    for (uint32_t i = first; i < n; i++)
        for (unsigned j = 0; j < blocks; j++) {
            philox4x32_ctr_t ctr = {{c0[i], c1[i], c2[i], block_word3(c3[i], j)}};
            philox4x32_ctr_t b = philox4x32(ctr, key);
            for (int w = 0; w < 4; w++) out[4 * ((size_t)blocks * i + j) + w] = b.v[w];
        }
}

#if SIMD_X86
/*
 * Philox4x32-10 on vectors of streams, one stream per 32-bit lane. A round maps (x0, x1, x2, x3)
 * to (hi(M1 x2) ^ x1 ^ k0, lo(M1 x2), hi(M0 x0) ^ x3 ^ k1, lo(M0 x0)), then the key advances by
 * the Weyl constants (Salmon et al. 2011; Random123's _philox4xWround_tpl and _bumpkey_tpl).
 * The 32x32 -> 64-bit products come from the unsigned even-lane multiply (vpmuludq), once for
 * the even lanes and once for the odd lanes shifted down; blends put the halves back in place.
 *
 * On the way out, a 4x4 transpose within each 128-bit lane (unpacks of 32- then 64-bit
 * elements) turns the four word vectors into vectors whose 128-bit lane L holds all four words
 * of one stream: t_k's lane L is stream 4 L + k. Each 128-bit lane is then one store.
 */
#define PHILOX_ROUNDS 10

__attribute__((target("avx2"))) static inline void mulhilo_avx2(__m256i a, __m256i m, __m256i *lo,
                                                                __m256i *hi)
{
    __m256i even = _mm256_mul_epu32(a, m);
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* Whole vectors of 8 streams; returns how many streams it did (the rest is the scalar loop's). */
__attribute__((target("avx2"))) static uint32_t fill_avx2(const uint32_t *c0, const uint32_t *c1,
                                                          const uint32_t *c2, const uint32_t *c3,
                                                          uint32_t key0, uint32_t key1, uint32_t n,
                                                          unsigned blocks, uint32_t *out)
{
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M4x32_0);
    const __m256i m1 = _mm256_set1_epi32((int)PHILOX_M4x32_1);
    const __m256i low = _mm256_set1_epi32((int)RNG_BLOCK_MASK);
    __m256i k0[PHILOX_ROUNDS], k1[PHILOX_ROUNDS];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        k0[r] = _mm256_set1_epi32((int)(key0 + (uint32_t)r * PHILOX_W32_0));
        k1[r] = _mm256_set1_epi32((int)(key1 + (uint32_t)r * PHILOX_W32_1));
    }
    const size_t per = 4 * (size_t)blocks;   /* words of one stream */
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x0_in = _mm256_loadu_si256((const __m256i *)(const void *)(c0 + i));
        __m256i x1_in = _mm256_loadu_si256((const __m256i *)(const void *)(c1 + i));
        __m256i x2_in = _mm256_loadu_si256((const __m256i *)(const void *)(c2 + i));
        __m256i x3_in = _mm256_loadu_si256((const __m256i *)(const void *)(c3 + i));
        __m256i x3_high = _mm256_andnot_si256(low, x3_in);
        for (unsigned j = 0; j < blocks; j++) {
            __m256i x0 = x0_in, x1 = x1_in, x2 = x2_in;
            __m256i x3 = _mm256_or_si256(
                x3_high, _mm256_and_si256(_mm256_add_epi32(x3_in, _mm256_set1_epi32((int)j)), low));
            for (int r = 0; r < PHILOX_ROUNDS; r++) {
                __m256i lo0, hi0, lo1, hi1;
                mulhilo_avx2(x0, m0, &lo0, &hi0);
                mulhilo_avx2(x2, m1, &lo1, &hi1);
                x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), k0[r]);
                x1 = lo1;
                x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), k1[r]);
                x3 = lo0;
            }
            __m256i a = _mm256_unpacklo_epi32(x0, x1), b = _mm256_unpackhi_epi32(x0, x1);
            __m256i c = _mm256_unpacklo_epi32(x2, x3), d = _mm256_unpackhi_epi32(x2, x3);
            __m256i t[4] = {_mm256_unpacklo_epi64(a, c), _mm256_unpackhi_epi64(a, c),
                            _mm256_unpacklo_epi64(b, d), _mm256_unpackhi_epi64(b, d)};
            uint32_t *o = out + per * i + 4 * (size_t)j;
            for (int k = 0; k < 4; k++) {
                _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)k),
                                 _mm256_castsi256_si128(t[k]));
                _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)(4 + k)),
                                 _mm256_extracti128_si256(t[k], 1));
            }
        }
    }
    return i;
}

__attribute__((target("avx512f"))) static inline void mulhilo_avx512(__m512i a, __m512i m,
                                                                     __m512i *lo, __m512i *hi)
{
    __m512i even = _mm512_mul_epu32(a, m);
    __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

/* All of [0, n): the last, partial vector with masked loads, and stores of its streams only. */
__attribute__((target("avx512f"))) static uint32_t fill_avx512(const uint32_t *c0,
                                                               const uint32_t *c1,
                                                               const uint32_t *c2,
                                                               const uint32_t *c3, uint32_t key0,
                                                               uint32_t key1, uint32_t n,
                                                               unsigned blocks, uint32_t *out)
{
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M4x32_0);
    const __m512i m1 = _mm512_set1_epi32((int)PHILOX_M4x32_1);
    const __m512i low = _mm512_set1_epi32((int)RNG_BLOCK_MASK);
    __m512i k0[PHILOX_ROUNDS], k1[PHILOX_ROUNDS];
    for (int r = 0; r < PHILOX_ROUNDS; r++) {
        k0[r] = _mm512_set1_epi32((int)(key0 + (uint32_t)r * PHILOX_W32_0));
        k1[r] = _mm512_set1_epi32((int)(key1 + (uint32_t)r * PHILOX_W32_1));
    }
    const size_t per = 4 * (size_t)blocks;
    for (uint32_t i = 0; i < n; i += 16) {
        uint32_t lanes_n = n - i >= 16 ? 16 : n - i;
        __mmask16 lanes = (__mmask16)(lanes_n == 16 ? 0xFFFFu : (1u << lanes_n) - 1);
        __m512i x0_in = _mm512_maskz_loadu_epi32(lanes, c0 + i);
        __m512i x1_in = _mm512_maskz_loadu_epi32(lanes, c1 + i);
        __m512i x2_in = _mm512_maskz_loadu_epi32(lanes, c2 + i);
        __m512i x3_in = _mm512_maskz_loadu_epi32(lanes, c3 + i);
        __m512i x3_high = _mm512_andnot_si512(low, x3_in);
        for (unsigned j = 0; j < blocks; j++) {
            __m512i x0 = x0_in, x1 = x1_in, x2 = x2_in;
            __m512i x3 = _mm512_or_si512(
                x3_high, _mm512_and_si512(_mm512_add_epi32(x3_in, _mm512_set1_epi32((int)j)), low));
            for (int r = 0; r < PHILOX_ROUNDS; r++) {
                __m512i lo0, hi0, lo1, hi1;
                mulhilo_avx512(x0, m0, &lo0, &hi0);
                mulhilo_avx512(x2, m1, &lo1, &hi1);
                x0 = _mm512_xor_si512(_mm512_xor_si512(hi1, x1), k0[r]);
                x1 = lo1;
                x2 = _mm512_xor_si512(_mm512_xor_si512(hi0, x3), k1[r]);
                x3 = lo0;
            }
            __m512i a = _mm512_unpacklo_epi32(x0, x1), b = _mm512_unpackhi_epi32(x0, x1);
            __m512i c = _mm512_unpacklo_epi32(x2, x3), d = _mm512_unpackhi_epi32(x2, x3);
            __m512i t[4] = {_mm512_unpacklo_epi64(a, c), _mm512_unpackhi_epi64(a, c),
                            _mm512_unpacklo_epi64(b, d), _mm512_unpackhi_epi64(b, d)};
            uint32_t *o = out + per * i + 4 * (size_t)j;
            if (lanes_n == 16) {
                for (int k = 0; k < 4; k++) {
                    _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)k),
                                     _mm512_extracti32x4_epi32(t[k], 0));
                    _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)(4 + k)),
                                     _mm512_extracti32x4_epi32(t[k], 1));
                    _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)(8 + k)),
                                     _mm512_extracti32x4_epi32(t[k], 2));
                    _mm_storeu_si128((__m128i *)(void *)(o + per * (size_t)(12 + k)),
                                     _mm512_extracti32x4_epi32(t[k], 3));
                }
            } else {
                uint32_t lane[4][16];
                for (int k = 0; k < 4; k++) _mm512_storeu_si512((void *)lane[k], t[k]);
                for (uint32_t s = 0; s < lanes_n; s++)   /* stream 4 L + k: t_k's lane L */
                    memcpy(o + per * s, &lane[s % 4][4 * (s / 4)], 4 * sizeof(uint32_t));
            }
        }
    }
    return n;
}
#endif

void rng_ahead_fill(simd_path path, const uint32_t *c0, const uint32_t *c1, const uint32_t *c2,
                    const uint32_t *c3, uint32_t key0, uint32_t key1, uint32_t n, unsigned blocks,
                    uint32_t *out)
{
    uint32_t done = 0;
#if SIMD_X86
    if (path == SIMD_AVX512) done = fill_avx512(c0, c1, c2, c3, key0, key1, n, blocks, out);
    else if (path == SIMD_AVX2) done = fill_avx2(c0, c1, c2, c3, key0, key1, n, blocks, out);
#else
    (void)path;
#endif
    fill_scalar(c0, c1, c2, c3, key0, key1, done, n, blocks, out);
}
