/* testutil.h — helpers the unit tests share. */
#pragma once

/* A char major no driver registered here (240..254, "local/experimental"),
 * so open() of a node with it gives ENXIO once a cgroup allows it; fails
 * the test when none is free. */
unsigned test_unused_major (void);

/* rm -rf path, not following symlinks. */
void test_rm_tree (const char *path);
