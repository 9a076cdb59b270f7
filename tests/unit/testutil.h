/* testutil.h — helpers the unit tests share. */
#pragma once

/* A char major no driver registered here (240..254, "local/experimental"),
 * so open() of a node with it gives ENXIO once a cgroup allows it; fails
 * the test when none is free. */
unsigned test_unused_major (void);

/* rm -rf path, not following symlinks. */
void test_rm_tree (const char *path);

/* The cgroup2 mount (/sys/fs/cgroup/unified on a hybrid host, else
 * /sys/fs/cgroup), or NULL when there is none. */
const char *test_cgroup2_mount (void);
