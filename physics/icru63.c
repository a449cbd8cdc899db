/* icru63.c - see icru63.h. The data themselves are in icru63_data.c (generated). */
#include "icru63.h"

#include <math.h>
#include <string.h>

int icru63_element(int Z)
{
    for (int e = 0; e < icru63_elements; e++)
        if (icru63_element_z[e] == Z) return e;
    return -1;
}

int icru63_energy_count(int element)
{
    return icru63_element_first[element + 1] - icru63_element_first[element];
}

void icru63_element_copy(int element, float *dst)
{
    int first = icru63_element_first[element], n = icru63_energy_count(element);
    size_t spec = (size_t)ICRU63_SPECIES * ICRU63_NODES, ddx = spec * ICRU63_ANGLES;
    memcpy(dst, icru63_energy + first, (size_t)n * sizeof *dst);
    dst += n;
    memcpy(dst, icru63_recoil + first, (size_t)n * sizeof *dst);
    dst += n;
    memcpy(dst, icru63_multiplicity + (size_t)first * ICRU63_SPECIES,
           (size_t)n * ICRU63_SPECIES * sizeof *dst);
    dst += (size_t)n * ICRU63_SPECIES;
    memcpy(dst, icru63_ddx + first * ddx, n * ddx * sizeof *dst);
    /* What the sampler derives: the slopes between the angles, node by node
     * (icru63_angle_slope); the emission densities and cumulative counts (icru63_emission);
     * the leading particle's cut, the lowest node above which the three species hold at most
     * one particle per reaction together, and each species' share above it. */
    const float *h = dst;
    dst += n * ddx;
    for (size_t node = 0; node < n * spec; node++, h += ICRU63_ANGLES)
        for (int i = 0; i < ICRU63_ANGLES - 1; i++)
            *dst++ = (float)icru63_angle_slope(h, i);
    float *density = dst, *cumulative = dst + n * spec, *cut = cumulative + n * spec;
    float *fast = cut + n;
    for (int k = 0; k < n; k++) {
        int t = first + k;
        for (int s = 0; s < ICRU63_SPECIES; s++)
            icru63_emission(icru63_spectrum + ((size_t)t * ICRU63_SPECIES + s) * ICRU63_NODES,
                            icru63_multiplicity[(size_t)t * ICRU63_SPECIES + s], icru63_sigma[t],
                            icru63_energy[t],
                            density + ((size_t)k * ICRU63_SPECIES + s) * ICRU63_NODES,
                            cumulative + ((size_t)k * ICRU63_SPECIES + s) * ICRU63_NODES);
        double above[ICRU63_SPECIES] = {0.0, 0.0, 0.0}, leading = 0.0;
        int c = ICRU63_NODES - 1;
        while (c > 0) {
            double add[ICRU63_SPECIES], sum = 0.0;
            for (int s = 0; s < ICRU63_SPECIES; s++) {
                add[s] = icru63_interval_area(
                    density + ((size_t)k * ICRU63_SPECIES + s) * ICRU63_NODES, c - 1, 1.0);
                sum += add[s];
            }
            if (leading + sum > 1.0) break;
            leading += sum;
            for (int s = 0; s < ICRU63_SPECIES; s++) above[s] += add[s];
            c--;
        }
        cut[k] = (float)c;
        for (int s = 0; s < ICRU63_SPECIES; s++)
            fast[(size_t)k * ICRU63_SPECIES + s] = (float)above[s];
    }
}

int icru63_elastic_count(int element)
{
    return icru63_elastic_first[element + 1] - icru63_elastic_first[element];
}

void icru63_elastic_copy(int element, const int *first_interval, float *dst)
{
    int first = icru63_elastic_first[element], n = icru63_elastic_count(element);
    const int na = ICRU63_ELASTIC_ANGLES;
    for (int i = 0; i < na; i++) dst[i] = (float)(1.0 - cos((i + 1) * 5.0 * PI / 180.0));
    icru63_elastic_view v = icru63_elastic_view_of(dst, n);
    float *energy = dst + na, *sigma = energy + n, *dxs = sigma + n;
    float *slope = dxs + (size_t)na * n, *cumulative = slope + (size_t)(na - 1) * n;
    memcpy(energy, icru63_elastic_energy + first, (size_t)n * sizeof *energy);
    memcpy(dxs, icru63_elastic_dxs + (size_t)first * na, (size_t)n * na * sizeof *dxs);
    /* Per energy: the powers, the intervals' areas under the power form, their cumulative
     * shares, and 2 pi times the total: the cross-section (b) the rate uses. The files' own
     * cross-section is the trapezoid, linear in cos theta, which is several times larger where
     * the distribution falls steeply (Rutherford's, at a few MeV), and not that of phosphorus
     * or copper at all (scripts/icru63_tables.py). The intervals below first_interval[k] get
     * no share: their angles are left to multiple scattering. */
    for (int k = 0; k < n; k++) {
        const float *h = dxs + (size_t)k * na;
        float *b = slope + (size_t)k * (na - 1), *cum = cumulative + (size_t)k * (na - 1);
        double area[ICRU63_ELASTIC_ANGLES - 1], total = 0.0;
        int from = first_interval ? first_interval[k] : 0;
        for (int i = 0; i < na - 1; i++) {
            b[i] = (float)icru63_power_slope(v.x[i], v.x[i + 1], h[i], h[i + 1]);
            area[i] = i < from ? 0.0 : icru63_power_area(v.x[i], v.x[i + 1], h[i], h[i + 1], b[i]);
            total += area[i];
        }
        double acc = 0.0;
        for (int i = 0; i < na - 1; i++) {
            acc += area[i];
            cum[i] = total > 0.0 ? (float)(acc / total) : (float)(i + 1) / (na - 1);
        }
        cum[na - 2] = 1.0f;
        sigma[k] = (float)(2.0 * PI * total);
    }
}
