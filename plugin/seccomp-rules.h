/* seccomp-rules.h — the syscalls each sandbox profile allows, as libseccomp rules.
 *
 * Build time and tests only, never in a binary: seccomp-gen.c turns each
 * profile's rules into BPF (libseccomp, binary-tree optimised) and writes
 * sandbox-filters.h, which sandbox.c loads with the raw seccomp() call, so
 * no binary links libseccomp or builds a filter at run time.  The unit test
 * builds the same rules at run time and compares them with what a binary
 * loads.  The capabilities of each profile, with their reasons, are
 * sandbox.c's; the syscalls are here. */
#pragma once

#include <seccomp.h>
#include <sys/types.h>

#include "sandbox.h"

/* The filter of profile for process self (kill and tgkill may signal only
 * it): EPERM for an unlisted syscall, a kill for the deadly ones, every
 * attribute set.  0 or a negative errno; *ret is the caller's to release. */
int vgpu_seccomp_rules (vgpu_sandbox_profile_t profile, pid_t self, scmp_filter_ctx *ret);
