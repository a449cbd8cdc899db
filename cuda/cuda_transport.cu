/* cuda_transport.cu - see cuda_transport.h. The loop's stages are physics/event.h's; this file
 * holds the kernels that run them over the banks, the warp-level appends and sums, and the host
 * code that owns the device memory and launches an iteration's kernels in order. */
#include "cuda_transport.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"

/* The run's parameters, read by every thread: constant memory broadcasts them. */
__constant__ transport_params device_params;

/* Ledger, counters and steps of a run, summed over its particles. */
#define TOTALS_COUNT (LEDGER_COUNT + COUNT_COUNT + 1)

#define BLOCK_THREADS 128
/* Iterations launched between two looks at the loop's counts (and at cancel and pause): as
 * many as take about GROUP_SECONDS of GPU time (the count adapts, from 1 to the most), so that
 * cancel is seen that soon, while the host's wait at each look stays one bubble per group. */
#define GROUP_ITERATIONS 64
#define GROUP_SECONDS 0.02
/* Reaction kernel threads per SM: each has its own reaction_scratch (about 7 kB) in global
 * memory; reactions are a few percent of the particles of a pass, so a few blocks per SM keep
 * up with them. */
#define REACT_BLOCKS_PER_SM 4

/* What the kernels share in device memory: the loop's counts and the run's totals. */
typedef struct loop_state {
    event_counts c;
    unsigned long long totals[TOTALS_COUNT];
    unsigned long long profile[2 * PROFILE_COUNT];   /* cycles, then marks */
    uint32_t ps_count;          /* phase-space crossings since the host last took them */
} loop_state;

/* Phase space (a run with ps_depth > 0): the crossings of a group of iterations go to one
 * buffer of PS_DEVICE_POINTS in device memory (300 MB), slots taken atomically; the host takes
 * them after each group, in pieces of PS_HOST_POINTS, and halves the group while a group fills
 * more than a quarter of the buffer. Crossings beyond it are counted as lost (the run fails,
 * as on the CPU). */
#define PS_DEVICE_POINTS (1u << 22)
#define PS_HOST_POINTS 65536u

/* Where the kernels add their curves (the dose map's too: they follow the channels' in each
 * copy, transport_curve_count): `copies` private copies of the run's curves, each warp
 * adding to copy (warp number mod copies), summed into copy 0 at the end of a run (sum_copies).
 * Particles started together stay at about the same depth, so a warp's atomic adds meet other
 * warps' at the same addresses; more copies spread them (the sums, integers, are the same). */
typedef struct tally_ref {
    int64_t *curves;
    int stride;
    uint32_t copies;
    size_t copy_len;            /* n_curves x stride */
    phase_space_point *ps;      /* the phase-space buffer (NULL: none asked for) */
    uint32_t *ps_count;         /* &loop_state.ps_count */
    uint32_t ps_capacity;
} tally_ref;

enum kernel_id { K_SPAWN, K_STEP, K_REACT, K_BOOK, K_COUNT };
static const char *const kernel_names[K_COUNT] = {"spawn", "step", "react", "bookkeeping"};

struct cuda_session {
    const transport_params *host_params;
    int n_tables;
    const transport_table *host_tables[TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1)];
    void *table_blocks[TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1)];
    transport_table *device_tables;    /* the table structs, pointers rebased to the device */
    int64_t *curves;                   /* copies x n_curves x stride */
    int n_curves, stride;
    uint32_t copies;
    tally_ref tally;
    void *bank_blocks[3];
    particle_bank bank[3];             /* two that swap (in, out) and the reactions' */
    reaction_scratch *scratch;
    phase_space_point *ps;             /* PS_DEVICE_POINTS, when the run records a phase space */
    phase_space_point *host_ps;        /* PS_HOST_POINTS, pinned */
    loop_state *loop;
    loop_state *host_loop;             /* pinned, for the counts the host reads */
    uint32_t target, capacity;
    unsigned steps;
    int aggregate;
    int sm_count, grid_step, grid_spawn, grid_react;
    int min_blocks;                    /* the step kernel's variant: 1, 3 or 4 */
    int group;                         /* iterations per group, adapted to GROUP_SECONDS */
    cudaEvent_t marks[4 * GROUP_ITERATIONS];
    double kernel_seconds[K_COUNT];
    uint64_t launches[K_COUNT], iterations;
    double device_bytes;
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int fail(char *err, size_t len, const char *what, cudaError_t rc)
{
    snprintf(err, len, "%s: %s", what, cudaGetErrorString(rc));
    return -1;
}

/* ---- device helpers ---------------------------------------------------------------------- */

/* Slot in a bank for each lane that wants one: one atomic add per warp, the lanes numbered in
 * order within it. Every active lane calls it. */
static __device__ __forceinline__ uint32_t warp_append(uint32_t *counter, bool want)
{
    unsigned active = __activemask();
    unsigned mask = __ballot_sync(active, want);
    uint32_t slot = 0;
    if (want) {
        int lane = threadIdx.x & 31, leader = __ffs(mask) - 1;
        uint32_t base = 0;
        if (lane == leader) base = atomicAdd(counter, (uint32_t)__popc(mask));
        base = __shfl_sync(mask, base, leader);
        slot = base + (uint32_t)__popc(mask & ((1u << lane) - 1u));
    }
    return slot;
}

/* Sum over a whole warp (all 32 lanes present), added once to *into when not zero. */
static __device__ __forceinline__ void warp_add(unsigned long long *into, unsigned long long v)
{
    for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
    if ((threadIdx.x & 31) == 0 && v) atomicAdd(into, v);
}

static __device__ void sink_begin(score_sink *s, tally_ref t)
{
    memset(s, 0, sizeof *s);
    uint32_t warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    s->curves = t.curves + (size_t)(warp % t.copies) * t.copy_len;
    s->stride = t.stride;
    s->ps = t.ps;
    s->ps_capacity = t.ps_capacity;
    s->ps_shared = t.ps_count;
}

/* Adds copies 1.. of the curves into copy 0. */
__global__ void sum_copies(tally_ref t)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < t.copy_len;
         i += (size_t)gridDim.x * blockDim.x) {
        int64_t sum = t.curves[i];
        for (uint32_t c = 1; c < t.copies; c++) sum += t.curves[(size_t)c * t.copy_len + i];
        t.curves[i] = sum;
    }
}

/* A thread's ledger, counters and steps into the run's totals, summed per warp first. Called
 * by every thread of the grid after its loop (blocks are whole warps). */
static __device__ void sink_flush(const score_sink *s, loop_state *L)
{
    __syncwarp();
    for (int k = 0; k < LEDGER_COUNT; k++) warp_add(&L->totals[k], (unsigned long long)s->ledger[k]);
    for (int k = 0; k < COUNT_COUNT; k++) warp_add(&L->totals[LEDGER_COUNT + k], s->count[k]);
    warp_add(&L->totals[LEDGER_COUNT + COUNT_COUNT], s->steps);
}

static __device__ void profile_flush(const step_profile *prof, loop_state *L)
{
    __syncwarp();
    for (int k = 0; k < PROFILE_COUNT; k++) {
        warp_add(&L->profile[k], prof->cycles[k]);
        warp_add(&L->profile[PROFILE_COUNT + k], prof->marks[k]);
    }
}

/* ---- the stages -------------------------------------------------------------------------- */

/* Stage 2: the iteration's new primaries into `in`. */
__global__ void spawn_kernel(particle_bank in, loop_state *L, tally_ref tally)
{
    score_sink s;
    sink_begin(&s, tally);
    uint32_t n = L->c.spawn;
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        event_spawn_one(&device_params, &in, &L->c, i, &s);
    sink_flush(&s, L);
}

/* Stage 3: a pass of steps over `in`; the living to `out`, the reacting to `react`. MIN_BLOCKS:
 * the blocks of BLOCK_THREADS each SM must be able to hold, which caps the registers a thread
 * may use (1: no cap in practice); the variants are chosen at run time (BRAGG_CUDA_MINBLOCKS). */
template <bool PROFILED, int MIN_BLOCKS>
__global__ void __launch_bounds__(BLOCK_THREADS, MIN_BLOCKS) step_kernel(particle_bank in, particle_bank out, particle_bank react,
                            loop_state *L, tally_ref tally, unsigned steps)
{
    score_sink s;
    sink_begin(&s, tally);
    step_profile prof;
    if (PROFILED) memset(&prof, 0, sizeof prof);
    uint32_t n = L->c.n_in;
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        particle q;
        int moved;
        int outcome = event_step_one(&device_params, &in, i, steps, &q, &s,
                                     PROFILED ? &prof : (step_profile *)0, &moved);
        /* event_keep, with one atomic add per warp for each count. */
        unsigned active = __activemask(), moved_lanes = __ballot_sync(active, moved);
        if ((threadIdx.x & 31) == __ffs(active) - 1 && moved_lanes)
            atomicAdd(&L->c.moved, (uint32_t)__popc(moved_lanes));
        uint32_t to_react = warp_append(&L->c.n_react, outcome == STEP_REACT);
        bool parked = outcome == STEP_REACT && to_react < react.capacity;
        uint32_t to_out = warp_append(&L->c.n_out, outcome != STEP_GONE && !parked);
        if (parked) bank_store(&react, to_react, &q);
        else if (outcome != STEP_GONE) bank_store(&out, to_out, &q);
    }
    sink_flush(&s, L);
    if (PROFILED) profile_flush(&prof, L);
}

/* Stage 5: the reactions planned, their products (and the particles that live on) to `out`.
 * Each thread has its own scratch in global memory. */
template <bool PROFILED>
__global__ void react_kernel(particle_bank react, particle_bank out, loop_state *L,
                             tally_ref tally, reaction_scratch *scratch)
{
    score_sink s;
    sink_begin(&s, tally);
    step_profile prof;
    if (PROFILED) memset(&prof, 0, sizeof prof);
    uint32_t tid = blockIdx.x * blockDim.x + threadIdx.x;
    uint32_t n = L->c.react_take;
    for (uint32_t j = tid; j < n; j += gridDim.x * blockDim.x)
        event_react_one(&device_params, &react, &out, &L->c, j, &s, &scratch[tid],
                        PROFILED ? &prof : (step_profile *)0);
    sink_flush(&s, L);
    if (PROFILED) profile_flush(&prof, L);
}

/* Stages 1, 4 and the ends of 2 and 5: one thread each. */
__global__ void book_after_spawn(loop_state *L)
{
    event_after_spawn(&L->c);
}

__global__ void book_plan_react(loop_state *L, uint32_t capacity, uint32_t react_capacity,
                                uint32_t max_products)
{
    event_plan_react(&L->c, capacity, react_capacity, max_products);
}

__global__ void book_after_react(loop_state *L, uint32_t capacity, uint32_t target)
{
    event_after_react(&L->c, capacity);
    event_plan_spawn(&L->c, target);
}

/* ---- host ------------------------------------------------------------------------------- */

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
    s->device_bytes += (double)host->block_bytes;
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
    double **integrals[] = {&rebased->stopping_el_integral, &rebased->z1d_integral};
    for (size_t k = 0; k < sizeof integrals / sizeof integrals[0]; k++)
        *integrals[k] = (double *)(db + ((const char *)*integrals[k] - hb));
    if (rebased->icru63) rebased->icru63 = (float *)(db + ((const char *)host->icru63 - hb));
    rebased->block = block;
    return 0;
}

/* Tables and parameters to the device. */
static int copy_params(cuda_session *s, const transport_params *params, char *err, size_t len)
{
    transport_table *rebased = (transport_table *)calloc(TRANSPORT_MAX_SLABS * (TRANSPORT_MAX_Z + 1),
                                                         sizeof(transport_table));
    transport_params device_copy = *params;
    cudaError_t rc;
    int status = -1;
    if (!rebased) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    /* Every distinct table of every slab and charge, once. */
    for (int i = 0; i < params->n_slabs; i++)
        for (int z = 0; z <= TRANSPORT_MAX_Z; z++) {
            const transport_table *t = params->slabs[i].table[z];
            if (!t) continue;
            int k = 0;
            while (k < s->n_tables && s->host_tables[k] != t) k++;
            if (k == s->n_tables) {
                if (copy_table(s, t, &rebased[k], err, len)) goto done;
                s->host_tables[k] = t;
                s->n_tables++;
            }
            device_copy.slabs[i].table[z] = (const transport_table *)(uintptr_t)k;   /* index for now */
        }
    rc = cudaMalloc((void **)&s->device_tables, (size_t)s->n_tables * sizeof(transport_table));
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMalloc (table structs)", rc);
        goto done;
    }
    rc = cudaMemcpy(s->device_tables, rebased, (size_t)s->n_tables * sizeof(transport_table),
                    cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMemcpy (table structs)", rc);
        goto done;
    }
    for (int i = 0; i < params->n_slabs; i++)
        for (int z = 0; z <= TRANSPORT_MAX_Z; z++)
            if (params->slabs[i].table[z])
                device_copy.slabs[i].table[z] =
                    s->device_tables + (uintptr_t)device_copy.slabs[i].table[z];
    rc = cudaMemcpyToSymbol(device_params, &device_copy, sizeof device_copy);
    if (rc == cudaSuccess)
        rc = cudaMemcpyToSymbol(device_score_aggregate, &s->aggregate, sizeof s->aggregate);
    if (rc != cudaSuccess) {
        fail(err, len, "cudaMemcpyToSymbol (parameters)", rc);
        goto done;
    }
    status = 0;
done:
    free(rebased);
    return status;
}

/* Blocks of `threads` threads per SM that can be resident for a kernel (at least 1). */
template <typename K>
static int resident_blocks(K kernel)
{
    int blocks = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, BLOCK_THREADS, 0) !=
        cudaSuccess || blocks < 1)
        blocks = 1;
    return blocks;
}

extern "C" cuda_session *cuda_session_open(const transport_params *params, int n_curves,
                                           const cuda_options *options, char *err, size_t len)
{
    cuda_session *s = (cuda_session *)calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    cudaError_t rc;
    s->host_params = params;
    s->n_curves = n_curves;
    s->stride = params->nbins + 1;
    s->target = options && options->target ? options->target : 1u << 20;
    s->steps = options && options->steps_per_pass ? options->steps_per_pass : 8;
    s->aggregate = options && options->score_aggregate >= 0 ? options->score_aggregate : 1;
    s->copies = options && options->tally_copies ? options->tally_copies : 1;
    s->min_blocks = options && (options->min_blocks == 4 || options->min_blocks == 3) ? options->min_blocks : 1;
    s->group = 8;
    /* The output bank holds what survives a pass (at most what was in flight) plus the products
     * of the reactions run in it: twice the target leaves room for target / max_products of
     * them at once. */
    s->capacity = 2 * s->target;
    if (copy_params(s, params, err, len)) goto fail;

    int device;
    cudaDeviceProp prop;
    if ((rc = cudaGetDevice(&device)) != cudaSuccess ||
        (rc = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        fail(err, len, "cudaGetDeviceProperties", rc);
        goto fail;
    }
    s->sm_count = prop.multiProcessorCount;
    s->grid_step = s->sm_count * (s->min_blocks == 4   ? resident_blocks(step_kernel<false, 4>)
                                  : s->min_blocks == 3 ? resident_blocks(step_kernel<false, 3>)
                                                       : resident_blocks(step_kernel<false, 1>));
    s->grid_spawn = s->sm_count * resident_blocks(spawn_kernel);
    s->grid_react = s->sm_count * REACT_BLOCKS_PER_SM;

    {
        size_t bank_bytes = particle_bank_bytes(s->capacity);
        size_t scratch_bytes = (size_t)s->grid_react * BLOCK_THREADS * sizeof(reaction_scratch);
        size_t curve_bytes = (size_t)s->copies * n_curves * s->stride * sizeof(int64_t);
        for (int k = 0; k < 3; k++) {
            rc = cudaMalloc(&s->bank_blocks[k], bank_bytes);
            if (rc != cudaSuccess) {
                fail(err, len, "cudaMalloc (particle banks)", rc);
                goto fail;
            }
            particle_bank_place(&s->bank[k], s->bank_blocks[k], s->capacity);
        }
        if ((rc = cudaMalloc((void **)&s->scratch, scratch_bytes)) != cudaSuccess ||
            (rc = cudaMalloc((void **)&s->curves, curve_bytes)) != cudaSuccess ||
            (rc = cudaMalloc((void **)&s->loop, sizeof(loop_state))) != cudaSuccess ||
            (rc = cudaMallocHost((void **)&s->host_loop, sizeof(loop_state))) != cudaSuccess) {
            fail(err, len, "cudaMalloc (scratch, scores)", rc);
            goto fail;
        }
        s->device_bytes += 3.0 * bank_bytes + scratch_bytes + curve_bytes + sizeof(loop_state);
        s->tally.curves = s->curves;
        s->tally.stride = s->stride;
        s->tally.copies = s->copies;
        s->tally.copy_len = (size_t)n_curves * s->stride;
        if (params->ps_depth > 0.0) {
            size_t ps_bytes = (size_t)PS_DEVICE_POINTS * sizeof(phase_space_point);
            if ((rc = cudaMalloc((void **)&s->ps, ps_bytes)) != cudaSuccess ||
                (rc = cudaMallocHost((void **)&s->host_ps,
                                     PS_HOST_POINTS * sizeof(phase_space_point))) != cudaSuccess) {
                fail(err, len, "cudaMalloc (phase space)", rc);
                goto fail;
            }
            s->device_bytes += (double)ps_bytes;
            s->tally.ps = s->ps;
            s->tally.ps_count = &s->loop->ps_count;
            s->tally.ps_capacity = PS_DEVICE_POINTS;
        }
    }
    for (size_t k = 0; k < sizeof s->marks / sizeof s->marks[0]; k++)
        if ((rc = cudaEventCreate(&s->marks[k])) != cudaSuccess) {
            fail(err, len, "cudaEventCreate", rc);
            goto fail;
        }
    return s;
fail:
    cuda_session_close(s);
    return NULL;
}

/* Launches one iteration on the default stream; `mark` (profiled runs) records events between
 * the stages: before spawn, before step, before react, after it. */
static void launch_iteration(cuda_session *s, int in, int out, int profile, cudaEvent_t *mark)
{
    const transport_params *p = s->host_params;
    loop_state *L = s->loop;
    if (mark) cudaEventRecord(mark[0], 0);
    spawn_kernel<<<s->grid_spawn, BLOCK_THREADS>>>(s->bank[in], L, s->tally);
    book_after_spawn<<<1, 1>>>(L);
    if (mark) cudaEventRecord(mark[1], 0);
    if (profile)
        step_kernel<true, 1><<<s->grid_step, BLOCK_THREADS>>>(s->bank[in], s->bank[out], s->bank[2],
                                                              L, s->tally, s->steps);
    else if (s->min_blocks == 4)
        step_kernel<false, 4><<<s->grid_step, BLOCK_THREADS>>>(s->bank[in], s->bank[out], s->bank[2],
                                                               L, s->tally, s->steps);
    else if (s->min_blocks == 3)
        step_kernel<false, 3><<<s->grid_step, BLOCK_THREADS>>>(s->bank[in], s->bank[out], s->bank[2],
                                                               L, s->tally, s->steps);
    else
        step_kernel<false, 1><<<s->grid_step, BLOCK_THREADS>>>(s->bank[in], s->bank[out], s->bank[2],
                                                               L, s->tally, s->steps);
    book_plan_react<<<1, 1>>>(L, s->capacity, s->capacity, (uint32_t)p->max_products);
    if (mark) cudaEventRecord(mark[2], 0);
    if (profile)
        react_kernel<true><<<s->grid_react, BLOCK_THREADS>>>(s->bank[2], s->bank[out], L, s->tally,
                                                             s->scratch);
    else
        react_kernel<false><<<s->grid_react, BLOCK_THREADS>>>(s->bank[2], s->bank[out], L, s->tally,
                                                              s->scratch);
    book_after_react<<<1, 1>>>(L, s->capacity, s->target);
    if (mark) cudaEventRecord(mark[3], 0);
    s->launches[K_SPAWN]++;
    s->launches[K_STEP]++;
    s->launches[K_REACT]++;
    s->launches[K_BOOK] += 3;
}

/* Hands the crossings a group left in the device buffer to `out`, in pieces, and empties it.
 * Called with the device idle (after the group's synchronisation). */
static int take_phase_space(cuda_session *s, uint32_t counted, cuda_phase_space_out out,
                            void *out_ctx, char *err, size_t len)
{
    uint32_t kept = counted < PS_DEVICE_POINTS ? counted : PS_DEVICE_POINTS;
    cudaError_t rc = cudaSuccess;
    for (uint32_t at = 0; at < kept && rc == cudaSuccess; at += PS_HOST_POINTS) {
        uint32_t n = kept - at < PS_HOST_POINTS ? kept - at : PS_HOST_POINTS;
        rc = cudaMemcpy(s->host_ps, s->ps + at, n * sizeof(phase_space_point),
                        cudaMemcpyDeviceToHost);
        if (rc == cudaSuccess && out) out(out_ctx, s->host_ps, n, 0);
    }
    if (rc == cudaSuccess && counted > kept && out) out(out_ctx, s->host_ps, 0, counted - kept);
    if (rc == cudaSuccess) rc = cudaMemset(&s->loop->ps_count, 0, sizeof(uint32_t));
    return rc == cudaSuccess ? 0 : fail(err, len, "cudaMemcpy (phase space)", rc);
}

extern "C" int cuda_session_run(cuda_session *s, uint64_t first, uint64_t count, int profile,
                                cuda_poll poll, void *poll_ctx, cuda_phase_space_out ps_out,
                                void *ps_ctx, int64_t *curves, cuda_run_result *result,
                                char *err, size_t len)
{
    memset(result, 0, sizeof *result);
    size_t curve_bytes = (size_t)s->n_curves * s->stride * sizeof(int64_t);   /* one copy */
    loop_state *host = s->host_loop;
    memset(host, 0, sizeof *host);
    event_counts_init(&host->c, first, count);
    event_plan_spawn(&host->c, s->target);
    cudaError_t rc = cudaMemset(s->curves, 0, s->copies * curve_bytes);
    if (rc == cudaSuccess) rc = cudaMemcpy(s->loop, host, sizeof *host, cudaMemcpyHostToDevice);
    if (rc != cudaSuccess) return fail(err, len, "cudaMemset/cudaMemcpy (loop state)", rc);

    int in = 0;
    double busy = 0.0;
    for (;;) {
        double t0 = wall_seconds();
        for (int g = 0; g < s->group; g++) {
            launch_iteration(s, in, 1 - in, profile, profile ? &s->marks[4 * g] : NULL);
            in = 1 - in;
        }
        rc = cudaMemcpyAsync(host, s->loop, sizeof *host, cudaMemcpyDeviceToHost, 0);
        if (rc == cudaSuccess) rc = cudaStreamSynchronize(0);
        if (rc == cudaSuccess) rc = cudaGetLastError();
        if (rc != cudaSuccess) return fail(err, len, "event loop kernels", rc);
        if (profile)
            for (int g = 0; g < s->group; g++)
                for (int k = 0; k < 3; k++) {
                    float ms = 0.0f;
                    cudaEventElapsedTime(&ms, s->marks[4 * g + k], s->marks[4 * g + k + 1]);
                    s->kernel_seconds[k] += 1e-3 * ms;   /* K_SPAWN (with its booking), K_STEP, K_REACT */
                    busy += 1e-3 * ms;
                }
        /* The next group's size, for about GROUP_SECONDS of GPU time, and with a phase space
         * for at most a quarter of its buffer. */
        double took = wall_seconds() - t0;
        uint32_t crossed = host->ps_count;
        int ps_full = s->ps && crossed > PS_DEVICE_POINTS / 4;
        if (ps_full && s->group > 1) s->group /= 2;
        else if (!ps_full && took < 0.5 * GROUP_SECONDS && s->group < GROUP_ITERATIONS &&
                 (!s->ps || crossed < PS_DEVICE_POINTS / 16))
            s->group *= 2;
        else if (took > 2.0 * GROUP_SECONDS && s->group > 1) s->group /= 2;
        if (s->ps && crossed && take_phase_space(s, crossed, ps_out, ps_ctx, err, len)) return -1;
        if (event_done(&host->c)) break;
        if (poll && poll(poll_ctx, host->c.started) && host->c.end > host->c.next) {
            /* Cancel: start nothing more, not even the spawn book_after_react has planned for
             * the next iteration (the device is idle here, so its counts are these: all of
             * them go back, end and spawn changed). */
            event_cancel(&host->c);
            rc = cudaMemcpy(&s->loop->c, &host->c, sizeof host->c, cudaMemcpyHostToDevice);
            if (rc != cudaSuccess) return fail(err, len, "cudaMemcpy (cancel)", rc);
        }
    }
    s->iterations += host->c.iterations;
    if (poll) poll(poll_ctx, host->c.started);

    if (s->copies > 1) {
        sum_copies<<<s->sm_count * 4, 256>>>(s->tally);
        if ((rc = cudaGetLastError()) != cudaSuccess) return fail(err, len, "sum_copies", rc);
    }
    int64_t *host_curves = (int64_t *)malloc(curve_bytes);
    if (!host_curves) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    rc = cudaMemcpy(host_curves, s->curves, curve_bytes, cudaMemcpyDeviceToHost);
    if (rc != cudaSuccess) {
        free(host_curves);
        return fail(err, len, "cudaMemcpy (scores)", rc);
    }
    size_t n = (size_t)s->n_curves * s->stride;
    for (size_t i = 0; i < n; i++) curves[i] += host_curves[i];
    free(host_curves);
    result->histories = host->c.started;
    for (int k = 0; k < LEDGER_COUNT; k++) result->ledger[k] = (int64_t)host->totals[k];
    for (int k = 0; k < COUNT_COUNT; k++) result->count[k] = host->totals[LEDGER_COUNT + k];
    result->steps = host->totals[LEDGER_COUNT + COUNT_COUNT];
    for (int k = 0; k < PROFILE_COUNT; k++) {
        result->profile_cycles[k] = host->profile[k];
        result->profile_marks[k] = host->profile[PROFILE_COUNT + k];
    }
    result->busy_seconds = busy;
    return 0;
}

template <typename K>
static void kernel_info(cuda_kernel_info *info, const char *name, K kernel, int blocks)
{
    cudaFuncAttributes attr;
    memset(info, 0, sizeof *info);
    info->name = name;
    info->block_threads = BLOCK_THREADS;
    info->blocks = blocks;
    if (cudaFuncGetAttributes(&attr, kernel) == cudaSuccess) {
        info->registers = attr.numRegs;
        info->stack_bytes = (int)attr.localSizeBytes;
    }
}

extern "C" void cuda_session_info(const cuda_session *s, cuda_info *out)
{
    memset(out, 0, sizeof *out);
    cudaDeviceProp prop;
    int device = 0;
    if (cudaGetDevice(&device) == cudaSuccess && cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
        snprintf(out->name, sizeof out->name, "%s", prop.name);
        out->sm_count = prop.multiProcessorCount;
        out->cc_major = prop.major;
        out->cc_minor = prop.minor;
        out->memory_gib = prop.totalGlobalMem / 1073741824.0;
        int khz = 0;
        if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device) == cudaSuccess)
            out->clock_mhz = khz / 1000;
    }
    cudaDriverGetVersion(&out->driver_version);
    cudaRuntimeGetVersion(&out->runtime_version);
    out->session_mib = s->device_bytes / 1048576.0;
    out->target = s->target;
    out->capacity = s->capacity;
    out->steps_per_pass = s->steps;
    out->score_aggregate = s->aggregate;
    out->tally_copies = s->copies;
    out->iterations = s->iterations;
    kernel_info(&out->kernel[0], kernel_names[K_SPAWN], spawn_kernel, s->grid_spawn);
    if (s->min_blocks == 4) kernel_info(&out->kernel[1], "step (min 4 blocks)", step_kernel<false, 4>, s->grid_step);
    else if (s->min_blocks == 3) kernel_info(&out->kernel[1], "step (min 3 blocks)", step_kernel<false, 3>, s->grid_step);
    else kernel_info(&out->kernel[1], kernel_names[K_STEP], step_kernel<false, 1>, s->grid_step);
    kernel_info(&out->kernel[2], "step (profiled)", step_kernel<true, 1>, s->grid_step);
    kernel_info(&out->kernel[3], kernel_names[K_REACT], react_kernel<false>, s->grid_react);
    kernel_info(&out->kernel[4], "react (profiled)", react_kernel<true>, s->grid_react);
    kernel_info(&out->kernel[5], kernel_names[K_BOOK], book_after_react, 1);
    out->n_kernels = 6;
    out->kernel[0].seconds = s->kernel_seconds[K_SPAWN];
    out->kernel[1].seconds = s->kernel_seconds[K_STEP];
    out->kernel[3].seconds = s->kernel_seconds[K_REACT];
    out->kernel[0].launches = s->launches[K_SPAWN];
    out->kernel[1].launches = s->launches[K_STEP];
    out->kernel[3].launches = s->launches[K_REACT];
    out->kernel[5].launches = s->launches[K_BOOK];
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
    for (int k = 0; k < 3; k++) cudaFree(s->bank_blocks[k]);
    cudaFree(s->scratch);
    cudaFree(s->curves);
    cudaFree(s->loop);
    cudaFreeHost(s->host_loop);
    cudaFree(s->ps);
    cudaFreeHost(s->host_ps);
    for (size_t k = 0; k < sizeof s->marks / sizeof s->marks[0]; k++)
        if (s->marks[k]) cudaEventDestroy(s->marks[k]);
    free(s);
}
