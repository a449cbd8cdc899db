/* report.c - see report.h. */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "backend.h"
#include "depth_unit.h"
#include "dose_map.h"
#include "simd.h"

void report_machine(char *cpu, size_t cpu_len, int *cores)
{
    snprintf(cpu, cpu_len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon) {
                    colon++;
                    while (*colon == ' ') colon++;
                    colon[strcspn(colon, "\n")] = '\0';
                    snprintf(cpu, cpu_len, "%s", colon);
                }
                break;
            }
        }
        fclose(f);
    }
    /* The cores this process may run on (its affinity: taskset, a cpuset), which is also what
     * the backends' default thread count is: `taskset -c 0 bragg bench` reported the
     * machine's 2 cores online and ran 1 thread. */
    *cores = omp_get_num_procs();
}

void channel_name(int channels, int c, char *out, size_t len)
{
    if (c == 0) snprintf(out, len, "primary");
    else if (c == channels - 1) snprintf(out, len, "target");
    else snprintf(out, len, "%d", c);
}

int report_write_csv(const engine *en, const run_snapshot *snap, const char *path, bragg_err *e)
{
    atomic_file af;
    if (atomic_file_open(&af, path, "--csv", e)) return BRAGG_ERR;
    const score_result *r = &snap->result;
    FILE *f = af.file;
    fprintf(f, "depth_cm,dose_Gy_cm2,dose_err_Gy_cm2,edep_MeV_cm,edep_err_MeV_cm,"
               "fluence_primaries,let_d_keV_um,let_t_keV_um,lateral_rms_cm");
    /* With nuclear reactions: dose, fluence and forward crossings by channel. */
    int nc = engine_config(en)->nuclear ? r->channels : 0;
    for (int c = 0; c < nc; c++) {
        char name[16];
        channel_name(r->channels, c, name, sizeof name);
        fprintf(f, ",dose_%s_Gy_cm2,fluence_%s,forward_%s", name, name, name);
    }
    /* With a biological model: its quality and what it gives at the chosen physical dose. */
    const bio_curves *b = &snap->bio;
    const bio_model *bm = engine_bio(en);
    if (b->nbins && bm)
        fprintf(f, ",%s,%s,alpha_Gy-1,beta_Gy-2,survival,survival_err,rbe,rbe_err,"
                   "rbe_weighted_dose_Gy,rbe_weighted_dose_err_Gy",
                bm->kind == BIO_MKM ? "z1d_Gy" : "bio_let_d_keV_um",
                bm->kind == BIO_MKM ? "z1d_err_Gy" : "bio_let_d_err_keV_um");
    fputc('\n', f);
    for (int i = 0; i < r->nbins; i++) {
        /* Empty cells where a quantity does not exist (no dose: no LET). */
        fprintf(f, "%.5f,%.6e,%.6e,%.6e,%.6e,%.6e,", r->depth[i], r->dose[i], r->dose_err[i],
                r->edep[i], r->edep_err[i], r->fluence[i]);
        if (isfinite(r->let_d[i])) fprintf(f, "%.6e", r->let_d[i]);
        fputc(',', f);
        if (isfinite(r->let_t[i])) fprintf(f, "%.6e", r->let_t[i]);
        fputc(',', f);
        if (isfinite(r->lateral_rms[i])) fprintf(f, "%.6e", r->lateral_rms[i]);
        for (int c = 0; c < nc; c++)
            fprintf(f, ",%.6e,%.6e,%.6e", r->channel_dose[c][i], r->channel_fluence[c][i],
                    r->channel_forward[c][i]);
        if (b->nbins && bm) {
            const double *cols[10] = {b->quality, b->quality_err, b->alpha, b->beta, b->survival,
                                      b->survival_err, b->rbe, b->rbe_err, b->rbe_dose,
                                      b->rbe_dose_err};
            for (int k = 0; k < 10; k++) {
                fputc(',', f);
                if (isfinite(cols[k][i])) fprintf(f, "%.6e", cols[k][i]);
            }
        }
        fputc('\n', f);
    }
    return atomic_file_commit(&af, e);
}

static void add_number(cJSON *obj, const char *name, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(obj, name, v);
    else cJSON_AddNullToObject(obj, name);
}

static cJSON *number_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

void report_profile_json(cJSON *obj, const run_snapshot *snap)
{
    for (int k = 0; k < PROFILE_COUNT; k++) {
        cJSON *c = cJSON_AddObjectToObject(obj, profile_component_names[k]);
        add_number(c, "share", snap->profile_share[k]);
        add_number(c, "ns_per_step", snap->profile_ns_per_step[k]);
    }
    add_number(obj, "coverage_of_wall_time", snap->profile_coverage);
    /* The sampling that applied: one history in 32 timed on the CPU, every one on the GPU. */
    cJSON_AddNumberToObject(obj, "timed_histories", (double)snap->profile_timed_histories);
    add_number(obj, "timed_fraction", snap->result.histories
                                          ? (double)snap->profile_timed_histories /
                                                (double)snap->result.histories
                                          : NAN);
}

void report_bio_json(cJSON *root, const bio_model *m, const bio_curves *b)
{
    if (!m || !b->nbins) return;
    cJSON *bio = cJSON_AddObjectToObject(root, "biology");
    cJSON_AddStringToObject(bio, "model", m->name);
    cJSON_AddStringToObject(bio, "cell_line", m->cell.name);
    cJSON_AddNumberToObject(bio, "alpha_x_Gy-1", m->cell.alpha_x);
    cJSON_AddNumberToObject(bio, "beta_x_Gy-2", m->cell.beta_x);
    cJSON_AddNumberToObject(bio, "alpha_beta_x_Gy", m->cell.alpha_x / m->cell.beta_x);
    if (m->kind == BIO_MKM) {
        cJSON_AddNumberToObject(bio, "alpha0_Gy-1", m->cell.alpha0);
        cJSON_AddNumberToObject(bio, "beta0_Gy-2", m->cell.beta0);
        cJSON_AddNumberToObject(bio, "domain_radius_um", m->cell.rd_um);
        cJSON_AddNumberToObject(bio, "nucleus_radius_um", m->cell.rn_um);
        cJSON_AddNumberToObject(bio, "z0_Gy", mkm_z0(&m->cell));
    } else {
        cJSON *p = cJSON_AddArrayToObject(bio, "p0_p3");
        for (int k = 0; k < 4; k++) cJSON_AddItemToArray(p, cJSON_CreateNumber(m->p[k]));
    }
    cJSON_AddNumberToObject(bio, "physical_dose_Gy", b->dose);
    cJSON_AddStringToObject(bio, "quality", b->quality_name);
    cJSON *cv = cJSON_AddObjectToObject(bio, "curves");
    int n = b->nbins;
    cJSON_AddItemToObject(cv, "quality", number_array(b->quality, n));
    cJSON_AddItemToObject(cv, "quality_err", number_array(b->quality_err, n));
    cJSON_AddItemToObject(cv, "alpha_Gy-1", number_array(b->alpha, n));
    cJSON_AddItemToObject(cv, "beta_Gy-2", number_array(b->beta, n));
    cJSON_AddItemToObject(cv, "survival", number_array(b->survival, n));
    cJSON_AddItemToObject(cv, "survival_err", number_array(b->survival_err, n));
    cJSON_AddItemToObject(cv, "rbe", number_array(b->rbe, n));
    cJSON_AddItemToObject(cv, "rbe_err", number_array(b->rbe_err, n));
    cJSON_AddItemToObject(cv, "rbe_weighted_dose_Gy", number_array(b->rbe_dose, n));
    cJSON_AddItemToObject(cv, "rbe_weighted_dose_err_Gy", number_array(b->rbe_dose_err, n));
}

cJSON *report_device_json(const backend_device *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddNumberToObject(o, "sm_count", d->sm_count);
    char cc[16];
    snprintf(cc, sizeof cc, "%d.%d", d->cc_major, d->cc_minor);
    cJSON_AddStringToObject(o, "compute_capability", cc);
    cJSON_AddNumberToObject(o, "clock_MHz", d->clock_mhz);
    cJSON_AddNumberToObject(o, "memory_GiB", d->memory_gib);
    char v[32];
    snprintf(v, sizeof v, "%d.%d", d->driver_version / 1000, d->driver_version % 1000 / 10);
    cJSON_AddStringToObject(o, "driver_cuda_version", v);
    snprintf(v, sizeof v, "%d.%d", d->runtime_version / 1000, d->runtime_version % 1000 / 10);
    cJSON_AddStringToObject(o, "runtime_version", v);
    cJSON *loop = cJSON_AddObjectToObject(o, "event_loop");
    cJSON_AddNumberToObject(loop, "particles_in_flight", d->target);
    cJSON_AddNumberToObject(loop, "bank_slots", d->capacity);
    cJSON_AddNumberToObject(loop, "steps_per_pass", d->steps_per_pass);
    cJSON_AddBoolToObject(loop, "warp_aggregated_scores", d->score_aggregate);
    cJSON_AddNumberToObject(loop, "tally_copies", d->tally_copies);
    cJSON_AddNumberToObject(loop, "iterations", (double)d->iterations);
    cJSON_AddNumberToObject(loop, "device_memory_MiB", d->device_memory_mib);
    cJSON *ks = cJSON_AddArrayToObject(o, "kernels");
    for (int k = 0; k < d->n_kernels; k++) {
        const backend_kernel *kk = &d->kernel[k];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", kk->name);
        cJSON_AddNumberToObject(x, "registers", kk->registers);
        cJSON_AddNumberToObject(x, "stack_bytes", kk->stack_bytes);
        cJSON_AddNumberToObject(x, "block_threads", kk->block_threads);
        cJSON_AddNumberToObject(x, "blocks", kk->blocks);
        cJSON_AddNumberToObject(x, "launches", (double)kk->launches);
        if (kk->timed) cJSON_AddNumberToObject(x, "seconds", kk->seconds);
        else cJSON_AddNullToObject(x, "seconds");
        cJSON_AddItemToArray(ks, x);
    }
    return o;
}

/* The dose map's grid, what lies beyond it and the halo (report.h). */
static void map_json(cJSON *root, const score_result *r)
{
    dose_map m;
    if (dose_map_from_result(r, &m, NULL)) return;
    cJSON *o = cJSON_AddObjectToObject(root, "map");
    cJSON_AddStringToObject(o, "kind", dose_map_kind_name(m.kind));
    cJSON_AddNullToObject(o, "file");
    cJSON_AddStringToObject(o, "quantity", m.kind == MAP_RZ ? "dose" : "dose integrated over y");
    cJSON_AddStringToObject(o, "unit", dose_map_unit(m.kind));
    cJSON_AddNumberToObject(o, "lateral_bins", m.n_lat);
    cJSON_AddNumberToObject(o, "lateral_bin_cm", m.lat_width);
    cJSON_AddNumberToObject(o, "lateral_min_cm", m.lat_lo);
    cJSON_AddNumberToObject(o, "lateral_max_cm", m.lat_lo + m.n_lat * m.lat_width);
    cJSON_AddNumberToObject(o, "depth_bins", m.n_depth);
    cJSON_AddNumberToObject(o, "depth_bin_cm", m.depth_width);
    cJSON_AddItemToObject(o, "beyond_grid_Gy_cm2", number_array(r->map_beyond, r->nbins));
    cJSON *halo = cJSON_AddObjectToObject(o, "halo");
    cJSON_AddStringToObject(halo, "definition",
                            m.kind == MAP_RZ
                                ? "fraction of the dose at each depth beyond a radius of 3 sigma, "
                                  "sigma the rms offset per axis of the primaries there (the "
                                  "core); a Gaussian core alone gives exp(-4.5) = 0.0111"
                                : "fraction of the dose at each depth beyond |x| = 3 sigma, "
                                  "sigma the rms offset per axis of the primaries there (the "
                                  "core); a Gaussian core alone gives 0.0027");
    cJSON_AddStringToObject(halo, "reference",
                            "core, halo and aura: Gottschalk et al., Phys. Med. Biol. 60 (2015) "
                            "5627; the core is the primaries, which only scatter "
                            "electromagnetically (a nuclear reaction or an elastic scattering "
                            "on hydrogen ends them)");
    cJSON_AddItemToObject(halo, "core_sigma_cm", number_array(r->lateral_rms, r->nbins));
    cJSON_AddItemToObject(halo, "fraction", number_array(r->halo_fraction, r->nbins));
    if (r->map_err) {
        /* The cells' errors are in the --map-error file; here what the summary uses. */
        cJSON_AddStringToObject(o, "errors",
                                "standard errors of the mean from the spread between the "
                                "batches (--map-error)");
        cJSON_AddItemToObject(o, "beyond_grid_err_Gy_cm2",
                              number_array(r->map_beyond_err, r->nbins));
        cJSON_AddItemToObject(halo, "fraction_err", number_array(r->halo_fraction_err, r->nbins));
    }
    cJSON_AddArrayToObject(o, "profiles");
}

int report_add_map_outputs(cJSON *root, const run_snapshot *snap, const char *map_file,
                           const double *depths, int n_depths, bragg_err *e)
{
    cJSON *o = cJSON_GetObjectItem(root, "map");
    if (!o) {
        if (!map_file && n_depths == 0) return BRAGG_OK;
        return bragg_fail(e, "--profile-at: needs a dose map (--map FILE)");
    }
    const score_result *r = &snap->result;
    dose_map m;
    if (dose_map_from_result(r, &m, e)) return BRAGG_ERR;
    if (map_file) cJSON_ReplaceItemInObject(o, "file", cJSON_CreateString(map_file));
    cJSON *profiles = cJSON_GetObjectItem(o, "profiles");
    double *lat = malloc(2 * (size_t)m.n_lat * sizeof *lat);
    if (!lat) return bragg_fail(e, "--profile-at: out of memory");
    double *dose = lat + m.n_lat;
    for (int j = 0; j < m.n_lat; j++) lat[j] = dose_map_lateral(&m, j);
    for (int k = 0; k < n_depths; k++) {
        int i = dose_map_depth_bin(&m, depths[k]);
        if (i < 0) {
            free(lat);
            return bragg_fail(e, "--profile-at: %g cm is outside the map (valid: 0 to %g cm)",
                              depths[k], m.n_depth * m.depth_width);
        }
        for (int j = 0; j < m.n_lat; j++) dose[j] = m.dose[(size_t)i * m.n_lat + j];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "depth_cm", depths[k]);
        cJSON_AddNumberToObject(p, "bin_from_cm", i * m.depth_width);
        cJSON_AddNumberToObject(p, "bin_to_cm", (i + 1) * m.depth_width);
        cJSON_AddItemToObject(p, m.kind == MAP_RZ ? "r_cm" : "x_cm", number_array(lat, m.n_lat));
        cJSON_AddItemToObject(p, "dose", number_array(dose, m.n_lat));
        if (r->map_err)
            cJSON_AddItemToObject(p, "dose_err",
                                  number_array(r->map_err + (size_t)i * m.n_lat, m.n_lat));
        add_number(p, "beyond_grid_Gy_cm2", r->map_beyond[i]);
        add_number(p, "core_sigma_cm", r->lateral_rms[i]);
        add_number(p, "halo_fraction", r->halo_fraction[i]);
        if (r->halo_fraction_err) add_number(p, "halo_fraction_err", r->halo_fraction_err[i]);
        cJSON_AddItemToArray(profiles, p);
    }
    free(lat);
    return BRAGG_OK;
}

int report_write_json_tree(const cJSON *root, const char *path, bragg_err *e)
{
    char *text = cJSON_Print(root);
    if (!text) return bragg_fail(e, "--json: out of memory");
    atomic_file af;
    if (atomic_file_open(&af, path, "--json", e)) {
        cJSON_free(text);
        return BRAGG_ERR;
    }
    fputs(text, af.file);
    fputc('\n', af.file);
    cJSON_free(text);
    return atomic_file_commit(&af, e);
}

cJSON *report_build_json(const engine *en, const run_snapshot *snap)
{
    const run_config *c = engine_config(en);
    const transport_params *p = engine_params(en);
    const score_result *r = &snap->result;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "schema_version", REPORT_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "bragg_version", BRAGG_VERSION);
    cJSON_AddStringToObject(root, "git_revision", BRAGG_GIT_REV);
    cJSON_AddStringToObject(root, "state", run_state_name(snap->state));
    cJSON_AddBoolToObject(root, "partial", snap->histories_done < snap->histories_total);

    cJSON *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "ion", c->ion);
    cJSON_AddNumberToObject(cfg, "ion_Z", engine_params(en)->Z);
    cJSON_AddNumberToObject(cfg, "ion_A", engine_params(en)->A);
    cJSON_AddNumberToObject(cfg, "energy_MeV_u", c->energy);
    cJSON_AddNumberToObject(cfg, "energy_spread_percent", 100 * c->energy_spread);
    cJSON_AddNumberToObject(cfg, "spot_sigma_mm", 10 * c->spot_sigma_cm);
    cJSON_AddNumberToObject(cfg, "divergence_mrad", 1000 * c->divergence_rad);
    cJSON_AddNumberToObject(cfg, "histories_requested", (double)c->histories);
    cJSON_AddNumberToObject(cfg, "seed", (double)c->seed);
    cJSON *slabs = cJSON_AddArrayToObject(cfg, "slabs");
    for (int i = 0; i < c->n_slabs; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "material", c->slabs[i].material);
        add_number(s, "thickness_cm", c->slabs[i].thickness_cm);
        add_number(s, "density_g_cm3", p->slabs[i].density);
        cJSON_AddItemToArray(slabs, s);
    }
    add_number(cfg, "lateral_halfwidth_cm", c->lateral_halfwidth_cm);
    cJSON_AddNumberToObject(cfg, "iwater_eV", c->iwater);
    cJSON *phys = cJSON_AddObjectToObject(cfg, "physics");
    cJSON_AddBoolToObject(phys, "straggling", c->straggling);
    cJSON_AddBoolToObject(phys, "multiple_scattering", c->scattering);
    cJSON_AddBoolToObject(phys, "nuclear_interactions", c->nuclear);
    cJSON_AddBoolToObject(phys, "shell_correction", c->stopping.shell);
    cJSON_AddBoolToObject(phys, "barkas", c->stopping.barkas);
    cJSON_AddBoolToObject(phys, "bloch", c->stopping.bloch);
    cJSON_AddBoolToObject(phys, "mott", c->stopping.mott);
    cJSON_AddBoolToObject(phys, "density_effect", c->stopping.density_effect);
    cJSON_AddBoolToObject(phys, "effective_charge", c->stopping.effective_charge);
    cJSON_AddBoolToObject(phys, "nuclear_stopping", c->stopping.nuclear);
    cJSON_AddNumberToObject(cfg, "step_fraction", c->step_fraction);
    cJSON_AddNumberToObject(cfg, "step_min_cm", p->step_min);   /* the one used (0 = automatic) */
    cJSON_AddNumberToObject(cfg, "step_fraction_secondary", c->step_fraction_secondary);
    cJSON_AddNumberToObject(cfg, "step_min_secondary_cm", c->step_min_secondary_cm);
    cJSON_AddNumberToObject(cfg, "energy_cut_MeV_u", p->energy_cut);   /* the one used */
    cJSON_AddNumberToObject(cfg, "bin_width_cm", p->bin_width);
    cJSON_AddNumberToObject(cfg, "depth_max_cm", p->nbins * p->bin_width);
    cJSON_AddNumberToObject(cfg, "batches", c->batches);

    char cpu[256];
    int cores;
    report_machine(cpu, sizeof cpu, &cores);
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "backend", engine_backend_name(en));
    cJSON_AddNumberToObject(run, "threads", engine_threads(en));
    cJSON_AddStringToObject(run, "cpu", cpu);
    cJSON_AddNumberToObject(run, "cores", cores);
    cJSON_AddStringToObject(run, "simd", simd_cpu_name());
    cJSON_AddNumberToObject(run, "simd_bits", simd_cpu_bits());
    const char *path = engine_vector_path(en);
    if (path) cJSON_AddStringToObject(run, "simd_path", path);
    else cJSON_AddNullToObject(run, "simd_path");
    cJSON_AddStringToObject(run, "compiler", __VERSION__);
    cJSON_AddNumberToObject(run, "histories", (double)r->histories);
    cJSON_AddNumberToObject(run, "batches", snap->batches_done);
    add_number(run, "elapsed_s", snap->elapsed_s);
    add_number(run, "histories_per_s", snap->histories_per_s);
    add_number(run, "steps_per_history", r->steps_per_history);
    add_number(run, "steps_per_s", snap->steps_per_s);
    /* Per thread: what one core spends on a step, comparable across thread counts. */
    add_number(run, "ns_per_step_per_thread",
               snap->steps_per_s > 0 ? 1e9 * engine_threads(en) / snap->steps_per_s : NAN);

    if (snap->profile_on) report_profile_json(cJSON_AddObjectToObject(run, "profile"), snap);
    else cJSON_AddNullToObject(run, "profile");
    backend_device dev;
    cJSON *device = engine_device(en, &dev) ? report_device_json(&dev) : NULL;
    if (device) cJSON_AddItemToObject(run, "device", device);
    else cJSON_AddNullToObject(run, "device");

    cJSON *fig = cJSON_AddObjectToObject(root, "results");
    add_number(fig, "csda_depth_cm", engine_csda_depth(en));
    add_number(fig, "peak_depth_cm", r->fig.peak_depth);
    add_number(fig, "peak_depth_err_cm", r->fig_err.peak_depth);
    add_number(fig, "peak_to_entrance", r->fig.peak_to_entrance);
    add_number(fig, "peak_to_entrance_err", r->fig_err.peak_to_entrance);
    add_number(fig, "r90_cm", r->fig.r90);
    add_number(fig, "r90_err_cm", r->fig_err.r90);
    add_number(fig, "r80_cm", r->fig.r80);
    add_number(fig, "r80_err_cm", r->fig_err.r80);
    add_number(fig, "r50_cm", r->fig.r50);
    add_number(fig, "r50_err_cm", r->fig_err.r50);
    add_number(fig, "r20_cm", r->fig.r20);
    add_number(fig, "r20_err_cm", r->fig_err.r20);
    add_number(fig, "falloff_80_20_cm", r->fig.falloff_80_20);
    add_number(fig, "falloff_80_20_err_cm", r->fig_err.falloff_80_20);
    add_number(fig, "fwhm_cm", r->fig.fwhm);
    add_number(fig, "fwhm_err_cm", r->fig_err.fwhm);
    add_number(fig, "peak_dose_rel_err", r->peak_rel_err);
    char note[512];
    if (report_figures_note(en, r, note, sizeof note)) cJSON_AddStringToObject(fig, "note", note);
    else cJSON_AddNullToObject(fig, "note");

    static const char *ledger_names[LEDGER_COUNT] = {
        "beam", "deposited", "below_cutoff", "escaped_back", "escaped_side", "escaped_through",
        "escaped_past_scoring_depth", "nuclear_local", "nuclear_neutral", "nuclear_binding",
        "outside_scoring_grid"};
    cJSON *led = cJSON_AddObjectToObject(root, "energy_ledger_MeV_per_primary");
    for (int k = 0; k < LEDGER_COUNT; k++) add_number(led, ledger_names[k], r->ledger_mev[k]);
    add_number(led, "closure_rel", r->ledger_closure);

    cJSON *curves = cJSON_AddObjectToObject(root, "depth_curves");
    cJSON_AddItemToObject(curves, "depth_cm", number_array(r->depth, r->nbins));
    cJSON_AddItemToObject(curves, "dose_Gy_cm2", number_array(r->dose, r->nbins));
    cJSON_AddItemToObject(curves, "dose_err_Gy_cm2", number_array(r->dose_err, r->nbins));
    cJSON_AddItemToObject(curves, "edep_MeV_cm", number_array(r->edep, r->nbins));
    cJSON_AddItemToObject(curves, "fluence_primaries", number_array(r->fluence, r->nbins));
    cJSON_AddItemToObject(curves, "let_d_keV_um", number_array(r->let_d, r->nbins));
    cJSON_AddItemToObject(curves, "lateral_rms_cm", number_array(r->lateral_rms, r->nbins));
    cJSON_AddItemToObject(curves, "let_d_err_keV_um", number_array(r->let_d_err, r->nbins));
    /* The protons' own LET_d (primaries and secondaries): what the proton RBE models read. */
    cJSON_AddItemToObject(curves, "let_d_proton_keV_um", number_array(r->let_d_proton, r->nbins));
    cJSON_AddItemToObject(curves, "let_d_proton_err_keV_um",
                          number_array(r->let_d_proton_err, r->nbins));
    report_bio_json(root, engine_bio(en), &snap->bio);
    if (r->map_kind != MAP_NONE) map_json(root, r);
    if (!c->nuclear) return root;
    cJSON_AddItemToObject(curves, "let_t_keV_um", number_array(r->let_t, r->nbins));
    /* By channel: "primary", "1".."Z" (secondaries of that charge), "target" (local deposits of
     * nuclear reactions). */
    cJSON *by_dose = cJSON_AddObjectToObject(curves, "dose_by_charge_Gy_cm2");
    cJSON *by_fluence = cJSON_AddObjectToObject(curves, "fluence_by_charge");
    cJSON *by_forward = cJSON_AddObjectToObject(curves, "forward_crossings_by_charge");
    for (int k = 0; k < r->channels; k++) {
        char name[16];
        channel_name(r->channels, k, name, sizeof name);
        cJSON_AddItemToObject(by_dose, name, number_array(r->channel_dose[k], r->nbins));
        if (k == r->channels - 1) continue;   /* local deposits have no track */
        cJSON_AddItemToObject(by_fluence, name, number_array(r->channel_fluence[k], r->nbins));
        cJSON_AddItemToObject(by_forward, name, number_array(r->channel_forward[k], r->nbins));
    }
    cJSON *nuc = cJSON_AddObjectToObject(root, "nuclear");
    add_number(nuc, "primaries_reacted_fraction", r->reacted_fraction);
    add_number(nuc, "primaries_surviving_fraction", r->surviving_fraction);
    /* Protons: primaries ended by elastic scattering on hydrogen (physics/transport.h); with
     * the two above they make 1 but for the few that leave the geometry. */
    add_number(nuc, "primaries_hydrogen_elastic_fraction",
               r->histories > 0
                   ? (double)r->count[COUNT_PRIMARY_HYDROGEN_ELASTIC] / (double)r->histories
                   : NAN);
    /* And those that scattered elastically on a nucleus beyond 5 degrees (ICRU Report 63; 10-20
     * in the metals, physics/tables.c): they go on as secondaries, the beam's halo. */
    add_number(nuc, "primaries_nucleus_elastic_fraction",
               r->histories > 0
                   ? (double)r->count[COUNT_PRIMARY_NUCLEUS_ELASTIC] / (double)r->histories
                   : NAN);
    add_number(nuc, "tail_to_peak", r->tail_to_peak);
    add_number(nuc, "tail_depth_cm", r->tail_depth_cm);
    double N = (double)r->histories;
    add_number(nuc, "reactions_per_primary", N > 0 ? r->count[COUNT_REACTIONS] / N : NAN);
    add_number(nuc, "secondaries_per_primary", N > 0 ? r->count[COUNT_SECONDARIES] / N : NAN);
    add_number(nuc, "hydrogen_elastic_per_primary",
               N > 0 ? r->count[COUNT_HYDROGEN_ELASTIC] / N : NAN);
    /* Protons scattered elastically on nuclei beyond 5 degrees (10-20 in the metals). */
    add_number(nuc, "nucleus_elastic_per_primary",
               N > 0 ? r->count[COUNT_NUCLEUS_ELASTIC] / N : NAN);
    cJSON_AddNumberToObject(nuc, "stack_full_events", (double)r->count[COUNT_STACK_FULL]);
    return root;
}

const char *report_figures_note_brief(figures_note_kind k)
{
    switch (k) {
    case FIGURES_NOTE_PAST_STACK: return "range past the stack end";
    case FIGURES_NOTE_PAST_GRID: return "range past the scoring depth";
    case FIGURES_NOTE_FEW_BINS: return "range spans few bins";
    case FIGURES_NOTE_SPREAD: return "the energy spread";
    case FIGURES_NOTE_REACTIONS: return "most primaries react";
    case FIGURES_NOTE_EARLY: return "dose highest early";
    case FIGURES_NOTE_SLOWING: return "slow ion: stopping maximum";
    default: return "";
    }
}

/* Pristine Bragg peaks lie at 0.987-0.997 of the CSDA depth (p 150 and 250 MeV, He-4 200,
 * C-12 400 and O-16 430 MeV/u in water; p 1 MeV at 0.92 and p 10 MeV at 0.98 in the bins
 * chosen for them): a highest dose below 0.9 of it, less two bins, is no Bragg peak. */
figures_note_kind report_figures_note(const engine *en, const score_result *r, char *out,
                                      size_t len)
{
    const transport_params *p = engine_params(en);
    const run_config *c = engine_config(en);
    double csda = engine_csda_depth(en), end = p->slabs[p->n_slabs - 1].z_end;
    double grid = p->nbins * p->bin_width;
    /* Depths in the summary's unit (depth_unit.h): p 1 MeV's note read "at 0.001463 cm" under
     * a summary in um. */
    depth_unit u = depth_unit_for(csda);
    if (isfinite(end) && csda >= end) {
        snprintf(out, len, "the beam's range lies past the end of the stack (%g %s): the figures "
                           "describe the dose in the stack, not a Bragg peak",
                 end * u.per_cm, u.name);
        return FIGURES_NOTE_PAST_STACK;
    }
    if (grid < csda) {
        snprintf(out, len, "the scoring depth (%g %s) ends before the CSDA depth (%.4g %s): the "
                           "figures describe the dose on the grid, not a Bragg peak",
                 grid * u.per_cm, u.name, csda * u.per_cm, u.name);
        return FIGURES_NOTE_PAST_GRID;
    }
    /* Fewer bins than this across the range read the figures off a handful of bin centres: p
     * 1 MeV in 0.1 mm bins (2.5 of them) gave R80 70 um, 2.8 times its range, +- 0. */
    int few = csda < 20 * p->bin_width;
    char bins[160];
    snprintf(bins, sizeof bins, "the range (%.3g mm) spans %.1f depth bins of %g mm: the figures "
                                "are bounded by the bins, not the beam%s",
             10 * csda, csda / p->bin_width, 10 * p->bin_width,
             p->bin_width > 1e-4 ? " (--bin sets them, down to 0.001 mm)" : "");
    int early = r->fig.peak_depth < 0.9 * csda - 2 * p->bin_width;
    if (few && !early) {
        snprintf(out, len, "%s", bins);
        return FIGURES_NOTE_FEW_BINS;
    }
    if (!early) return FIGURES_NOTE_NONE;
    char why[200] = "";
    figures_note_kind kind = FIGURES_NOTE_EARLY;
    /* The energy of the stopping power's maximum in the first slab (1% steps), between the
     * cut-off and the beam's energy, or above that when the loss falls from the start. Slow
     * heavy ions have it well above the cut-off: C-12 of 0.5 MeV/u in water peaks at 3.0 of
     * 8.6 um, where it slows through the maximum; Fe-56 of 1 MeV/u starts below its maximum
     * and its dose is highest at the entrance (R50 12.6 um against a CSDA depth of 15.5 um). */
    const transport_table *tab =
        p->slabs[0].z_end > r->fig.peak_depth ? p->slabs[0].table[p->Z] : NULL;
    double t_max = p->energy;
    if (tab) {
        for (double t = p->energy; t >= p->energy_cut; t /= 1.01)
            if (table_stopping(tab, t) > table_stopping(tab, t_max)) t_max = t;
        if (t_max == p->energy)
            while (t_max * 1.01 <= TABLE_T_MAX &&
                   table_stopping(tab, t_max * 1.01) > table_stopping(tab, t_max))
                t_max *= 1.01;
    }
    /* An energy spread moves the peak by its range spread, about 1.75 times itself (Bragg and
     * Kleeman's R ~ E^1.75): one that spreads the range by 5% or more is the first cause. */
    if (c->energy_spread > 0 && (1.75 * c->energy_spread >= 0.05 || !c->nuclear ||
                                 !(r->reacted_fraction > 0.5))) {
        snprintf(why, sizeof why, "; the %g%% energy spread spreads the peak out",
                 100 * c->energy_spread);
        kind = FIGURES_NOTE_SPREAD;
    } else if (c->nuclear && r->reacted_fraction > 0.5) {
        snprintf(why, sizeof why, "; %.1f%% of the primaries react before the end of their range",
                 100 * r->reacted_fraction);
        kind = FIGURES_NOTE_REACTIONS;
    } else if (tab && t_max >= p->energy) {
        snprintf(why, sizeof why, "; the beam starts below the energy of its stopping power's "
                                  "maximum (%.2g MeV/u), so it loses less as it slows",
                 t_max);
        kind = FIGURES_NOTE_SLOWING;
    } else if (tab && t_max > 2 * p->energy_cut) {
        /* Twice the cut-off: a maximum at the cut-off itself (protons' lies at 0.08 MeV, below
         * the 0.1 MeV/u cut) is where the range ends, which no peak lies before. */
        snprintf(why, sizeof why, "; its stopping power peaks at %.2g MeV/u, well above the "
                                  "cut-off: the dose is highest where it slows through that",
                 t_max);
        kind = FIGURES_NOTE_SLOWING;
    }
    int n = snprintf(out, len, "the highest dose, at %.4g %s, lies well before the CSDA depth, "
                               "%.4g %s%s. R90 to R50, the falloff and the FWHM describe where "
                               "that dose falls, not a Bragg peak",
                     r->fig.peak_depth * u.per_cm, u.name, csda * u.per_cm, u.name, why);
    if (few && n > 0 && (size_t)n < len) snprintf(out + n, len - n, "; and %s", bins);
    return kind;
}

int report_write_json(const engine *en, const run_snapshot *snap, const char *path, bragg_err *e)
{
    cJSON *root = report_build_json(en, snap);
    if (!root) return bragg_fail(e, "--json: out of memory");
    int rc = report_write_json_tree(root, path, e);
    cJSON_Delete(root);
    return rc;
}

void report_print_profile(FILE *out, const run_snapshot *snap)
{
    if (!snap->profile_on) return;
    /* The sampling that applied, not the CPU backends' alone: the GPU times every history. */
    unsigned long long timed = snap->profile_timed_histories, all = snap->result.histories;
    if (timed == all)
        fprintf(out, "  profile (all %llu histories timed; ns per step per thread):\n", all);
    else
        fprintf(out, "  profile (%llu of %llu histories timed; ns per step per thread):\n", timed,
                all);
    for (int k = 0; k < PROFILE_COUNT; k++) {
        fprintf(out, "    %-16s %6.1f%% %7.1f ns\n", profile_component_names[k],
                100 * snap->profile_share[k], snap->profile_ns_per_step[k]);
    }
    fprintf(out, "    histories account for %.1f%% of the wall time of all threads\n",
            100 * snap->profile_coverage);
}

/* The slab holding depth z, or -1 (NaN, or past the stack). */
static int slab_at(const transport_params *p, double z)
{
    for (int i = 0; i < p->n_slabs; i++)
        if (z >= p->slabs[i].z_start && z < p->slabs[i].z_end) return i;
    return -1;
}

static void print_figure(FILE *out, const char *name, double v, double err, const char *unit,
                         double scale)
{
    if (!isfinite(v)) {
        fprintf(out, "  %-22s n/a\n", name);
        return;
    }
    if (isfinite(err))
        fprintf(out, "  %-22s %10.4f +- %.4f %s\n", name, v * scale, err * scale, unit);
    else
        fprintf(out, "  %-22s %10.4f %s\n", name, v * scale, unit);
}

void report_print_summary(FILE *out, const engine *en, const run_snapshot *snap)
{
    const run_config *c = engine_config(en);
    const score_result *r = &snap->result;
    char geom[512];
    config_describe_geometry(c, geom, sizeof geom);
    fprintf(out, "%s %g %s in %s: %llu of %llu histories%s\n", c->ion, c->energy,
            ion_energy_unit(engine_params(en)->A), geom,
            (unsigned long long)r->histories, (unsigned long long)c->histories,
            snap->histories_done < snap->histories_total ? " (PARTIAL: run stopped early)" : "");
    char path[32] = "";
    if (engine_vector_path(en)) snprintf(path, sizeof path, " (%s)", engine_vector_path(en));
    fprintf(out, "  backend %s%s, %d thread%s: %.2f s, %.0f histories/s, %.1f steps/history, "
                 "%.1f ns/step per thread\n",
            engine_backend_name(en), path, engine_threads(en), engine_threads(en) == 1 ? "" : "s",
            snap->elapsed_s, snap->histories_per_s, r->steps_per_history,
            snap->steps_per_s > 0 ? 1e9 * engine_threads(en) / snap->steps_per_s : 0.0);
    /* A beam that is not a pencil of one energy says so: the figures depend on it. */
    if (c->energy_spread > 0 || c->spot_sigma_cm > 0 || c->divergence_rad > 0)
        fprintf(out, "  beam: energy spread %g%%, spot sigma %g mm, divergence sigma %g mrad\n",
                100 * c->energy_spread, 10 * c->spot_sigma_cm, 1e3 * c->divergence_rad);
    backend_device dev;
    if (engine_device(en, &dev))
        fprintf(out, "  device %s (%d SMs): %u particles in flight, %u steps per pass, "
                     "%llu iterations\n",
                dev.name, dev.sm_count, dev.target, dev.steps_per_pass,
                (unsigned long long)dev.iterations);
    /* Depths and widths in the unit the range reads best in (src/output/depth_unit.h). */
    double csda = engine_csda_depth(en);
    depth_unit du = depth_unit_for(csda), wu = width_unit_for(csda);
    const char *unit = du.name, *width_unit = wu.name;
    double scale = du.per_cm, width_scale = wu.per_cm;
    fprintf(out, "  %-22s %10.4f %s\n", "CSDA depth", csda * scale, unit);
    /* Bins other than the 0.1 mm most runs get are worth a word where bragg chose them. */
    const transport_params *p = engine_params(en);
    fprintf(out, "  %-22s %10g mm x %d to %g cm%s\n", "depth bins", 10 * p->bin_width, p->nbins,
            p->nbins * p->bin_width,
            c->bin_width_cm > 0 || p->bin_width == 0.01 ? "" : " (automatic; --bin sets them)");
    print_figure(out, "peak depth", r->fig.peak_depth, r->fig_err.peak_depth, unit, scale);
    print_figure(out, "R90", r->fig.r90, r->fig_err.r90, unit, scale);
    print_figure(out, "R80", r->fig.r80, r->fig_err.r80, unit, scale);
    print_figure(out, "R50", r->fig.r50, r->fig_err.r50, unit, scale);
    print_figure(out, "distal 80-20 falloff", r->fig.falloff_80_20, r->fig_err.falloff_80_20,
                 width_unit, width_scale);
    print_figure(out, "FWHM of the peak", r->fig.fwhm, r->fig_err.fwhm, width_unit, width_scale);
    /* In a stack the two doses may be to different materials (p 150 MeV behind 1 cm of lead:
     * 10.2, where water alone gives 5.3): say so. */
    char media[160] = "";
    int s0 = slab_at(engine_params(en), 0.0), s1 = slab_at(engine_params(en), r->fig.peak_depth);
    if (s0 >= 0 && s1 >= 0 && strcmp(c->slabs[s0].material, c->slabs[s1].material) != 0)
        snprintf(media, sizeof media, "(dose to %s at the entrance, to %s at the peak)",
                 c->slabs[s0].material, c->slabs[s1].material);
    print_figure(out, "peak/entrance", r->fig.peak_to_entrance, r->fig_err.peak_to_entrance,
                 media, 1);
    fprintf(out, "  %-22s %10.2f %%\n", "peak dose rel. error", 100 * r->peak_rel_err);
    char note[512];
    if (report_figures_note(en, r, note, sizeof note)) fprintf(out, "  note: %s\n", note);
    const bio_curves *b = &snap->bio;
    int peak_bin = isfinite(r->fig.peak_depth) ? (int)(r->fig.peak_depth / r->bin_width) : -1;
    if (b->nbins > 0 && b->rbe && peak_bin >= 0 && peak_bin < b->nbins) {
        const bio_model *bm = engine_bio(en);
        fprintf(out, "  %-22s %s, %s, %g Gy: RBE %.3f in the first bin, %.3f at the peak "
                     "depth\n", "biology", bm->name, bm->cell.name, b->dose, b->rbe[0],
                b->rbe[peak_bin]);
    }
    if (c->nuclear) {
        fprintf(out, "  %-22s %10.4f\n", "primaries reacted", r->reacted_fraction);
        fprintf(out, "  %-22s %10.4f  (slowed down to the cut-off, no nuclear event)\n",
                "primaries stopped", r->surviving_fraction);
        if (r->count[COUNT_PRIMARY_HYDROGEN_ELASTIC] > 0)
            fprintf(out, "  %-22s %10.4f  (elastic p-p: they go on as two secondaries)\n",
                    "primaries on hydrogen",
                    (double)r->count[COUNT_PRIMARY_HYDROGEN_ELASTIC] / (double)r->histories);
        if (r->count[COUNT_PRIMARY_NUCLEUS_ELASTIC] > 0)
            fprintf(out, "  %-22s %10.4f  (elastic, large angles: they go on as secondaries)\n",
                    "primaries on nuclei",
                    (double)r->count[COUNT_PRIMARY_NUCLEUS_ELASTIC] / (double)r->histories);
        if (isfinite(r->tail_to_peak))
            fprintf(out, "  %-22s %10.4f  (mean dose at R20 + 0.5..1.5 cm / peak)\n",
                    "tail/peak", r->tail_to_peak);
    }
    const double *L = r->ledger_mev;
    fprintf(out, "  energy ledger (MeV/primary): beam %.4f = deposited %.4f + below cut-off %.4f"
                 " + escaped %.4f (back %.4f, side %.4f, through %.4f, past scoring depth %.4f)",
            L[LEDGER_BEAM], L[LEDGER_DEPOSITED], L[LEDGER_BELOW_CUTOFF],
            L[LEDGER_ESCAPED_BACK] + L[LEDGER_ESCAPED_SIDE] + L[LEDGER_ESCAPED_THROUGH] +
                L[LEDGER_ESCAPED_DEEP],
            L[LEDGER_ESCAPED_BACK], L[LEDGER_ESCAPED_SIDE], L[LEDGER_ESCAPED_THROUGH],
            L[LEDGER_ESCAPED_DEEP]);
    if (c->nuclear)
        fprintf(out, " + nuclear (local %.4f, neutral %.4f, binding %.4f)",
                L[LEDGER_NUCLEAR_LOCAL], L[LEDGER_NUCLEAR_NEUTRAL], L[LEDGER_NUCLEAR_BINDING]);
    fprintf(out, "; closure %.1e\n", r->ledger_closure);
}

cJSON *report_bench_root(const char *cpu, int cores, cJSON **machine)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddNumberToObject(root, "schema_version", REPORT_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "bragg_version", BRAGG_VERSION);
    cJSON_AddStringToObject(root, "git_revision", BRAGG_GIT_REV);
    cJSON *m = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddStringToObject(m, "cpu", cpu);
    cJSON_AddNumberToObject(m, "cores", cores);
    /* What the vector units can do, and the path the simd backend takes here. */
    cJSON_AddStringToObject(m, "simd", simd_cpu_name());
    cJSON_AddNumberToObject(m, "simd_bits", simd_cpu_bits());
    cJSON_AddStringToObject(m, "compiler", __VERSION__);
    *machine = m;
    return root;
}
