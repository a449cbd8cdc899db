/* cuda_transport.cu - see cuda_transport.h. */
#include "cuda_transport.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run's parameters, read by every thread: constant memory broadcasts them. */
__constant__ transport_params device_params;

/* Ledger, counters and steps of a launch, summed over its histories. */
#define TOTALS_COUNT (LEDGER_COUNT + COUNT_COUNT + 1)

/* Histories per kernel launch: enough to fill any current GPU many times over, few enough that
 * the host looks at cancel/pause every few milliseconds. */
#define LAUNCH_HISTORIES (1u << 18)
#define BLOCK_THREADS 128

struct cuda_session {
    const transport_params *host_params;
    int n_tables;
    const transport_table *host_tables[TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1)];
    void *table_blocks[TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1)];
    transport_table *device_tables;    /* the table structs, pointers rebased to the device */
    int64_t *curves;                   /* n_curves x stride */
    unsigned long long *totals;        /* TOTALS_COUNT */
    int n_curves, stride;
};

static int fail(char *err, size_t len, const char *what, cudaError_t rc)
{
    snprintf(err, len, "%s: %s", what, cudaGetErrorString(rc));
    return -1;
}

__global__ void transport_kernel(uint64_t first, uint64_t n, int64_t *curves, int stride,
                                 unsigned long long *totals)
{
    uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    score_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.curves = curves;
    sink.stride = stride;
    transport_history(&device_params, first + i, &sink);
    /* Integer sums: the order of the atomic additions does not matter (two's complement). */
    for (int k = 0; k < LEDGER_COUNT; k++)
        if (sink.ledger[k]) atomicAdd(&totals[k], (unsigned long long)sink.ledger[k]);
    for (int k = 0; k < COUNT_COUNT; k++)
        if (sink.count[k]) atomicAdd(&totals[LEDGER_COUNT + k], (unsigned long long)sink.count[k]);
    atomicAdd(&totals[LEDGER_COUNT + COUNT_COUNT], (unsigned long long)sink.steps);
}

extern "C" int cuda_device_probe(char *reason, size_t reason_len, char *name, size_t name_len)
{
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess) {
        snprintf(reason, reason_len, "no CUDA device (%s)", cudaGetErrorString(rc));
        return 0;
    }
    if (count == 0) {
        snprintf(reason, reason_len, "no CUDA device");
        return 0;
    }
    cudaDeviceProp prop;
    rc = cudaGetDeviceProperties(&prop, 0);
    if (rc != cudaSuccess) {
        snprintf(reason, reason_len, "CUDA device 0: %s", cudaGetErrorString(rc));
        return 0;
    }
    if (name) snprintf(name, name_len, "%s", prop.name);
    return 1;
}

/* Device copy of one table: its block, and the struct with every pointer moved into it. */
static int copy_table(cuda_session *s, const transport_table *host, transport_table *rebased,
                      char *err, size_t len)
{
    void *block = NULL;
    cudaError_t rc = cudaMalloc(&block, host->block_bytes);
    if (rc != cudaSuccess) return fail(err, len, "cudaMalloc (tables)", rc);
    s->table_blocks[s->n_tables] = block;
    rc = cudaMemcpy(block, host->block, host->block_bytes, cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) return fail(err, len, "cudaMemcpy (tables)", rc);
    *rebased = *host;
    const char *hb = (const char *)host->block;
    char *db = (char *)block;
    grid_entry **columns[] = {&rebased->stopping,   &rebased->stopping_el, &rebased->range,
                              &rebased->energy,     &rebased->straggling,  &rebased->scattering,
                              &rebased->reaction,   &rebased->reaction_cum, &rebased->z1d};
    for (size_t k = 0; k < sizeof columns / sizeof columns[0]; k++)
        *columns[k] = (grid_entry *)(db + ((const char *)*columns[k] - hb));
    rebased->block = block;
    return 0;
}

extern "C" cuda_session *cuda_session_open(const transport_params *params, int n_curves,
                                           char *err, size_t len)
{
    cuda_session *s = (cuda_session *)calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    s->host_params = params;
    s->n_curves = n_curves;
    /* A history keeps its secondaries' stack in local memory (about 20 kB per thread, the
     * compiler's count): make sure the per-thread stack limit covers it. */
    cudaFuncAttributes attr;
    if (cudaFuncGetAttributes(&attr, transport_kernel) == cudaSuccess)
        cudaDeviceSetLimit(cudaLimitStackSize, attr.localSizeBytes + 4096);
    s->stride = params->nbins + 1;

    /* Every distinct table of every slab and charge, once. */
    transport_table *rebased = (transport_table *)calloc(TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1),
                                                         sizeof(transport_table));
    transport_params device_copy = *params;
    cudaError_t rc;
    if (!rebased) {
        snprintf(err, len, "out of memory");
        goto fail;
    }
    for (int i = 0; i < params->n_slabs; i++)
        for (int z = 0; z <= TRANSPORT_MAX_Z; z++) {
            const transport_table *t = params->slabs[i].table[z];
            if (!t) continue;
            int k = 0;
            while (k < s->n_tables && s->host_tables[k] != t) k++;
            if (k == s->n_tables) {
                if (copy_table(s, t, &rebased[k], err, len)) goto fail;
                s->host_tables[k] = t;
                s->n_tables++;
            }
        }
    rc = cudaMalloc((void **)&s->device_tables, (size_t)s->n_tables * sizeof(transport_table));
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMalloc (table structs)", rc);
        goto fail;
    }
    rc = cudaMemcpy(s->device_tables, rebased, (size_t)s->n_tables * sizeof(transport_table),
                    cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMemcpy (table structs)", rc);
        goto fail;
    }
    for (int i = 0; i < params->n_slabs; i++)
        for (int z = 0; z <= TRANSPORT_MAX_Z; z++) {
            const transport_table *t = params->slabs[i].table[z];
            if (!t) continue;
            int k = 0;
            while (s->host_tables[k] != t) k++;
            device_copy.slabs[i].table[z] = s->device_tables + k;
        }
    rc = cudaMemcpyToSymbol(device_params, &device_copy, sizeof device_copy);
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMemcpyToSymbol (parameters)", rc);
        goto fail;
    }
    rc = cudaMalloc((void **)&s->curves, (size_t)n_curves * s->stride * sizeof(int64_t));
    if (rc == cudaSuccess) rc = cudaMalloc((void **)&s->totals, TOTALS_COUNT * sizeof(unsigned long long));
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMalloc (score arrays)", rc);
        goto fail;
    }
    free(rebased);
    return s;
fail:
    free(rebased);
    cuda_session_close(s);
    return NULL;
}

extern "C" int cuda_session_run(cuda_session *s, uint64_t first, uint64_t count, int64_t *curves,
                                int64_t *ledger, uint64_t *count_out, uint64_t *steps, char *err,
                                size_t len)
{
    size_t curve_bytes = (size_t)s->n_curves * s->stride * sizeof(int64_t);
    cudaError_t rc = cudaMemset(s->curves, 0, curve_bytes);
    if (rc == cudaSuccess) rc = cudaMemset(s->totals, 0, TOTALS_COUNT * sizeof(unsigned long long));
    if (rc != cudaSuccess) return fail(err, len, "cudaMemset", rc);
    for (uint64_t done = 0; done < count;) {
        uint64_t n = count - done < LAUNCH_HISTORIES ? count - done : LAUNCH_HISTORIES;
        unsigned blocks = (unsigned)((n + BLOCK_THREADS - 1) / BLOCK_THREADS);
        transport_kernel<<<blocks, BLOCK_THREADS>>>(first + done, n, s->curves, s->stride,
                                                    s->totals);
        rc = cudaGetLastError();
        if (rc != cudaSuccess) return fail(err, len, "kernel launch", rc);
        done += n;
    }
    rc = cudaDeviceSynchronize();
    if (rc != cudaSuccess) return fail(err, len, "kernel", rc);

    int64_t *host_curves = (int64_t *)malloc(curve_bytes);
    unsigned long long totals[TOTALS_COUNT];
    if (!host_curves) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    rc = cudaMemcpy(host_curves, s->curves, curve_bytes, cudaMemcpyDeviceToHost);
    if (rc == cudaSuccess) rc = cudaMemcpy(totals, s->totals, sizeof totals, cudaMemcpyDeviceToHost);
    if (rc != cudaSuccess) {
        free(host_curves);
        return fail(err, len, "cudaMemcpy (scores)", rc);
    }
    size_t n = (size_t)s->n_curves * s->stride;
    for (size_t i = 0; i < n; i++) curves[i] += host_curves[i];
    free(host_curves);
    for (int k = 0; k < LEDGER_COUNT; k++) ledger[k] += (int64_t)totals[k];
    for (int k = 0; k < COUNT_COUNT; k++) count_out[k] += totals[LEDGER_COUNT + k];
    *steps += totals[LEDGER_COUNT + COUNT_COUNT];
    return 0;
}

extern "C" const transport_params *cuda_session_params(const cuda_session *s)
{
    return s->host_params;
}

extern "C" void cuda_session_close(cuda_session *s)
{
    if (!s) return;
    for (int k = 0; k < s->n_tables; k++) cudaFree(s->table_blocks[k]);
    /* A table whose copy failed half way has its block in the next slot. */
    if (s->n_tables < TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1))
        cudaFree(s->table_blocks[s->n_tables]);
    cudaFree(s->device_tables);
    cudaFree(s->curves);
    cudaFree(s->totals);
    free(s);
}
