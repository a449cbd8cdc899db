/*
 * cuda_transport.h - the GPU side of the CUDA backend, as plain C functions the host backend
 * (src/engine/backend_cuda.c) calls. Compiled only when the build finds nvcc (BRAGG_CUDA defined).
 *
 * One GPU thread transports one history with the very step code the CPU runs
 * (physics/transport.h): same random streams, same integer scoring, so a GPU run scores the
 * same sums as the CPU, bit for bit. Curves are added with 64-bit integer atomics into one
 * array in device memory; the ledger and counters of each history are added at its end.
 *
 * A cuda_session owns its device memory (tables, parameters, score arrays) and is released by
 * cuda_session_close. All functions are called from one host thread (the engine's run thread).
 */
#ifndef BRAGG_CUDA_TRANSPORT_H
#define BRAGG_CUDA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cuda_session cuda_session;

/* 1 when a CUDA device can run here; else 0 with the reason ("no CUDA device: ..."). `name`
 * receives the device's name when there is one. */
int cuda_device_probe(char *reason, size_t reason_len, char *name, size_t name_len);

/* Copies the tables `params` points to, and the parameters, to the device; allocates score
 * arrays of `n_curves` x (nbins + 1). Returns NULL with a message in `err` on failure. */
cuda_session *cuda_session_open(const transport_params *params, int n_curves, char *err,
                                size_t err_len);

/* Transports histories [first, first + count) and adds their scores (difference form, like a
 * CPU sink) into curves / ledger / count / steps. Returns 0, or -1 with a message. */
int cuda_session_run(cuda_session *s, uint64_t first, uint64_t count, int64_t *curves,
                     int64_t *ledger, uint64_t *count_out, uint64_t *steps, char *err,
                     size_t err_len);

/* The transport_params this session was opened with (host pointer), to tell when a new run
 * needs a new session. */
const transport_params *cuda_session_params(const cuda_session *s);

void cuda_session_close(cuda_session *s);

#ifdef __cplusplus
}
#endif

#endif
