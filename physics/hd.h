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

/* BRAGG_NOINLINE: for what only some runs do on a step's path (the dose map, the
 * phase-space plane): out of line, a run without them keeps the step's registers. Such a
 * function is `static` without `inline` (the compilers refuse both), and `unused` spares the
 * files that include it without calling it a warning. */
#if defined(__CUDACC__)
#define BRAGG_NOINLINE __noinline__ __attribute__((unused))
#elif defined(__GNUC__)
#define BRAGG_NOINLINE __attribute__((noinline, unused))
#else
#define BRAGG_NOINLINE
#endif

/* BRAGG_CONST_TABLE / BRAGG_CONST_GET: a constant table that the step code reads on either
 * side. The host reads name_host; under nvcc there is also a device copy in global memory, read
 * through the read-only data cache (__ldg). Not __constant__: the index differs from thread to
 * thread, and the constant cache serialises a warp's reads of different addresses (CUDA C++
 * Programming Guide, "Constant Memory"), while the read-only cache serves them together. */
#if defined(__CUDACC__)
#define BRAGG_CONST_TABLE(type, name, n, init)      \
    static const type name##_host[n] = init;        \
    static __device__ const type name##_device[n] = init;
#else
#define BRAGG_CONST_TABLE(type, name, n, init) static const type name##_host[n] = init;
#endif
#if defined(__CUDA_ARCH__)
#define BRAGG_CONST_GET(name, i) __ldg(&name##_device[i])
#else
#define BRAGG_CONST_GET(name, i) (name##_host[i])
#endif

#endif
