/* icru63.c - see icru63.h. The data themselves are in icru63_data.c (generated). */
#include "icru63.h"

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
