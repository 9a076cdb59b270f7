/* report.h — what the CLIs print: the mdevctl-compatible `types` layout, the
 * mdev list with owners, allocations and gc actions, as text or JSON.  Keeps
 * every output spelling in one place so binaries only parse arguments. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "alloc.h"
#include "ledger.h"
#include "device.h"
#include "mdev.h"

/* mdevctl types layout, byte for byte (1.2.0: the empty line at the end too). */
void vgpu_report_types (FILE *out, const vgpu_host_t *host);
int vgpu_report_types_json (FILE *out, const vgpu_host_t *host);

/* Active devices (mdevs, VFs under vfio-pci), each named by its kernel name
 * with its ledger owner (or marked as not ours). */
void vgpu_report_list (FILE *out, const vgpu_mdev_t *mdevs, size_t n, const vgpu_record_t *recs, size_t n_recs);
int vgpu_report_list_json (FILE *out, const vgpu_mdev_t *mdevs, size_t n, const vgpu_record_t *recs, size_t n_recs);

/* One device a line: an mdev's UUID, a VF's PCI address. */
void vgpu_report_alloc (FILE *out, const vgpu_mdev_t *mdevs, size_t n);
int vgpu_report_alloc_json (FILE *out, const char *owner, const vgpu_mdev_t *mdevs, size_t n);

/* One line per action; returns the number of failed actions. */
size_t vgpu_report_gc (FILE *out, const vgpu_gc_action_t *acts, size_t n);
