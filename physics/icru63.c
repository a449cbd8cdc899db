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
    memcpy(dst, icru63_sigma + first, (size_t)n * sizeof *dst);
    dst += n;
    memcpy(dst, icru63_recoil + first, (size_t)n * sizeof *dst);
    dst += n;
    memcpy(dst, icru63_multiplicity + (size_t)first * ICRU63_SPECIES,
           (size_t)n * ICRU63_SPECIES * sizeof *dst);
    dst += (size_t)n * ICRU63_SPECIES;
    memcpy(dst, icru63_spectrum + first * spec, n * spec * sizeof *dst);
    dst += n * spec;
    memcpy(dst, icru63_ddx + first * ddx, n * ddx * sizeof *dst);
}
