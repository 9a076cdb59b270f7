/* fuzz-check.h — invariants the harnesses share. */
#pragma once

#include <stdlib.h>

#include "error.h"

/* A refusal carries an errno and one printable ASCII sentence. */
static inline void
check_message (const vgpu_error_t *err)
{
        if (err->code <= 0 || err->msg[0] == '\0')
                abort ();
        for (const char *p = err->msg; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                        abort ();
}
