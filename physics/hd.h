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

#endif
