/* pci.h — PCI addresses, a function's directory and driver, and the ledger
 * id of a VF.
 *
 * A PCI function is named DDDD:BB:DD.F in lowercase hex (0000:00:02.1), as
 * the kernel names it under bus/pci/devices; that name may become a sysfs
 * path component only after it passes vgpu_pci_addr_valid.  A VF's ledger id
 * (backend.h) is the name-based UUID (RFC 4122 version 5, SHA-1) of its
 * address in vgpu-toolkit's own namespace: the same VF always has the same
 * id, so one record at a time names it (an allocation skips an id any
 * record has), and a record that cannot be read still says, by the id at the
 * end of its file name, which VF it was (each VF's id can be computed
 * again). */
#pragma once

#include <stdbool.h>

#include "backend.h"
#include "error.h"

#define VGPU_PCI_ADDR_LEN 12 /* 0000:00:02.1 */

/* DDDD:BB:DD.F, hex, device <= 0x1f, function <= 7; lowercase only. */
bool vgpu_pci_addr_valid (const char *s);

/* Validate an address from outside (any case) and copy it lowercased into
 * out (-EINVAL naming `what` and the value otherwise). */
int vgpu_pci_addr_normalise (const char *in, const char *what, char out[VGPU_PCI_ADDR_LEN + 1], vgpu_error_t *err);

/* The ledger id of the VF at a (valid) address. */
void vgpu_vf_id (const char *addr, char out[VGPU_UUID_LEN + 1]);

/* An O_PATH fd of bus/pci/devices/<addr> under the sysfs root fd root, for
 * a valid address; -1 with errno when there is none. */
int vgpu_pci_open (int root, const char *addr);

/* The name of the driver the function at devfd has, "" when it has none. */
void vgpu_pci_driver (int devfd, char buf[VGPU_NAME_MAX]);
