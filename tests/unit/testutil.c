/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

unsigned
test_unused_major (void)
{
        _cleanup_fclose_ FILE *f = fopen ("/proc/devices", "re");
        bool used[256] = { false }, chars = false;
        char line[256];

        assert_non_null (f);
        while (fgets (line, sizeof line, f)) {
                unsigned m;

                if (strncmp (line, "Character", 9) == 0)
                        chars = true;
                else if (strncmp (line, "Block", 5) == 0)
                        chars = false;
                else if (chars && sscanf (line, "%u", &m) == 1 && m < 256)
                        used[m] = true;
        }
        for (unsigned m = 240; m < 255; m++)
                if (!used[m])
                        return m;
        fail_msg ("no unused char major in 240..254");
        return 0;
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                rmdir (path);
        else
                unlink (path);
        return 0;
}

void
test_rm_tree (const char *path)
{
        nftw (path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
test_cgroup2_mount (void)
{
        static const char *const candidates[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
        struct statfs s;

        for (size_t i = 0; i < ARRAY_SIZE (candidates); i++)
                if (statfs (candidates[i], &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
                        return candidates[i];
        return NULL;
}
