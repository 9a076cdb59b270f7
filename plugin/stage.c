/* stage.c — see stage.h. */
#include "stage.h"

#include <errno.h>
#include <string.h>

static const char *const names[VGPU_STAGE_N] = {
        [VGPU_STAGE_AUTO] = "",
        [VGPU_STAGE_PRECREATE] = "precreate",
        [VGPU_STAGE_PRESTART] = "prestart",
        [VGPU_STAGE_CREATE_RUNTIME] = "createRuntime",
        [VGPU_STAGE_POSTSTOP] = "poststop",
        [VGPU_STAGE_CDI] = "cdi",
        [VGPU_STAGE_VGPUCTL] = "vgpuctl",
};

const char *
vgpu_stage_name (vgpu_stage_t stage)
{
        return (unsigned) stage < VGPU_STAGE_N ? names[stage] : "";
}

int
vgpu_stage_parse (const char *name, vgpu_stage_t *ret)
{
        for (vgpu_stage_t s = VGPU_STAGE_PRECREATE; s <= VGPU_STAGE_POSTSTOP; s++)
                if (strcmp (name, names[s]) == 0) {
                        *ret = s;
                        return 0;
                }
        return -EINVAL;
}
