/*
 * phase_space.h - the particles that crossed a run's phase-space plane, as an MCPL file (Monte
 * Carlo Particle Lists, Kittelmann et al., Comput. Phys. Commun. 218 (2017) 17; Debian's
 * libmcpl-dev), which Geant4, TOPAS, PHITS and McStas read: the beam at that depth handed to
 * another code.
 *
 * One particle per crossing of the plane z = phase_space_depth_cm, forwards or backwards (a
 * particle that crosses twice is there twice): PDG code (proton 2212, other ions 100ZZZAAA0),
 * position (x, y, the plane's depth) in cm, direction, kinetic energy in MeV, time 0, weight 1
 * (the file's universal weight), userflags the history index (its low 32 bits). Stored in
 * double precision. The crossings are sorted by history, then particle id (its random stream's
 * id, physics/random.h), then the order they happened in: the file is byte for byte the same
 * for any thread count, backend (the GPU included: a particle's crossings keep their order in its
 * buffer) and MPI rank count.
 *
 * The library writes to a path of its own choosing, so the file is written to a scratch file
 * (atomic_file_scratch_open: beside the target, or in TMPDIR for /dev/null and FIFOs;
 * registered, so that a signal that ends the process removes it) and then copied through
 * src/output/atomic_file.h (the one writer of outputs), and the scratch file removed. The file
 * is plain MCPL: a name ending .gz is refused (cmd_run.c), readers would take it for gzip. The library reports errors through a handler that
 * must not return: phase_space_write_mcpl catches them (setjmp), so it is for the main thread
 * only, one call at a time. Built without libmcpl (mcpl.h not found), phase_space_available
 * says so and the writer refuses.
 *
 * Memory: phase_space_sort works in place on the engine's list (which it owns).
 */
#ifndef BRAGG_PHASE_SPACE_H
#define BRAGG_PHASE_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"

/* 1 when this build writes MCPL; otherwise 0 and the reason. */
int phase_space_available(char *reason, size_t len);

/* The PDG code of a nucleus of charge Z and A nucleons (2212 for the proton). */
int32_t phase_space_pdg(int Z, int A);

/* Sorts crossings by (history, id), keeping the order of each particle's own crossings: a
 * stable merge sort. BRAGG_ERR only when out of memory. */
int phase_space_sort(phase_space_list *l, bragg_err *e);

/* Sorts the run's crossings and writes them to `path` (`what` names the option in messages).
 * `snap` is the ended run's snapshot: the header gives its histories (result.histories) and,
 * for a run cancelled or failed, what was asked and how it ended. */
int phase_space_write_mcpl(engine *en, const run_snapshot *snap, const char *path,
                           const char *what, bragg_err *e);

#endif
