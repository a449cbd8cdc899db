/*
 * simd.h - the CPU's vector units, and the kernels the CPU event loop runs across many particles
 * at once (backend `simd`, src/engine/backend_event.c).
 *
 * One binary runs on any x86-64. Each kernel is a scalar loop and, on x86-64, AVX2 and AVX-512
 * versions compiled for those instruction sets alone (function target attributes, so the rest of
 * the program keeps the build's -march); the caller picks a path at run time from what the CPU
 * supports (simd_supported, simd_best) or what the user forces (simd_path_parse of BRAGG_SIMD).
 * The vector versions compute exactly the words of the scalar one (integer arithmetic only);
 * tests/unit/test_simd.c compares them word for word on every path the CPU has.
 *
 * rng_ahead_fill computes, before a pass of the event loop, the next Philox4x32-10 blocks of
 * many particles' streams: one stream per vector lane (8 or 16 per instruction). A particle's
 * step then takes its blocks from there (rng_take_ahead, physics/random.h) instead of running
 * the Philox rounds itself. Each particle's blocks are stored together (the kernels transpose
 * their lanes on the way out): a step reads them in order, from a line or two of cache, where
 * one array per word put each of its draws on a cache line of its own. A block's value depends only on the stream's key and counter, never
 * on when it is computed, so the results are bit for bit those of the scalar loop; what a pass
 * does not use is thrown away.
 *
 * Pure functions over the caller's arrays; nothing is allocated, nothing global is written;
 * any thread.
 */
#ifndef BRAGG_SIMD_H
#define BRAGG_SIMD_H

#include <stddef.h>
#include <stdint.h>

typedef enum simd_path {
    SIMD_SCALAR,    /* plain C: any CPU */
    SIMD_AVX2,      /* 256-bit integer vectors: 8 streams per instruction */
    SIMD_AVX512,    /* 512-bit (AVX-512F): 16 streams per instruction */
    SIMD_PATHS
} simd_path;

/* "scalar", "avx2", "avx512". */
const char *simd_path_name(simd_path path);

/* Width of the path's vectors in bits (64 for the scalar path: one 64-bit register). */
int simd_path_bits(simd_path path);

/* 1 when this CPU (and its operating system, which must save the wider registers) can run the
 * path. */
int simd_supported(simd_path path);

/* The widest path this CPU runs. */
simd_path simd_best(void);

/* `name` ("scalar", "avx2", "avx512", or "auto" for simd_best) into *path: 0, or -1 when the
 * name is not known. Whether the CPU supports it is the caller's to check. */
int simd_path_parse(const char *name, simd_path *path);

/* What the CPU supports, for reports: "AVX-512", "AVX2", "SSE2" or "none" (not x86-64), and
 * that width in bits (128 for SSE2, 0 for none). */
const char *simd_cpu_name(void);
int simd_cpu_bits(void);

/* The next `blocks` Philox4x32-10 blocks of the streams of slots [0, n) of a particle bank
 * (physics/particle_bank.h): slot i's counter is (c0[i], c1[i], c2[i], c3[i]), the key (key0,
 * key1) is the run's seed. Block j is the one rng_refill would compute after j refills: counter
 * word 3 with its low RNG_BLOCK_BITS advanced by j (wrapping within them). Word w of block j of
 * slot i goes to out[4 (blocks i + j) + w]: 4 * blocks * n words, nothing beyond. */
void rng_ahead_fill(simd_path path, const uint32_t *c0, const uint32_t *c1, const uint32_t *c2,
                    const uint32_t *c3, uint32_t key0, uint32_t key1, uint32_t n, unsigned blocks,
                    uint32_t *out);

#endif
