/* depth_unit.c - see depth_unit.h. */
#include "depth_unit.h"

static const depth_unit cm = {"cm", "cm", 1.0}, mm = {"mm", "mm", 10.0},
                        um = {"um", "\u00b5m", 1e4};

depth_unit depth_unit_for(double csda_cm)
{
    return csda_cm < 0.1 && csda_cm > 0 ? um : csda_cm < 1.0 && csda_cm > 0 ? mm : cm;
}

depth_unit width_unit_for(double csda_cm)
{
    return csda_cm < 1.0 && csda_cm > 0 ? um : mm;
}
