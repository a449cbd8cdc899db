/*
 * hd.h - the one macro that lets physics code run on the CPU and the GPU.
 *
 * Every function a transport step calls is a `static inline` marked BRAGG_HD. Under nvcc it
 * becomes `__host__ __device__`, so the CUDA kernels compile the very same step code the CPU
 * backends run; under a C compiler it is empty. No state, no memory, callable from any thread.
 */
#ifndef BRAGG_HD_H
#define BRAGG_HD_H

#if defined(__CUDACC__)
#define BRAGG_HD __host__ __device__
#else
#define BRAGG_HD
#endif

/* BRAGG_FORCE_INLINE: for the few step functions whose inlining the compilers' size heuristics
 * refuse but whose call site is what makes them cheap (a constant argument folds a branch away,
 * or one caller's setup is shared). gcc, clang and nvcc (host and device code: it is what its
 * own __forceinline__ expands to) all take the GNU attribute. */
#if defined(__GNUC__)
#define BRAGG_FORCE_INLINE __attribute__((always_inline))
#else
#define BRAGG_FORCE_INLINE
#endif

#endif
