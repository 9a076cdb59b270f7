/* vgpu-sim: fault injection through <mount>/.sim/control.
 *
 * Tests write one command a line (several lines in one write are fine);
 * a write with any bad line changes nothing and fails with EINVAL, or
 * ENOENT for hide-iommu-group of a device or remove-parent/add-parent of a
 * parent that does not exist, or EBUSY for remove-parent while a remove
 * of one of its devices is blocked. Reading the
 * file shows the settings and the chosen char majors. Runs under sim.lock. */

#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELAY_MAX_MS 600000 /* ten minutes: longer is a typo, not a test */

/* Any name glibc knows (ENOSPC, EUSERS, ...), or a number. */
int
errno_from_name (const char *name)
{
        char *end;
        long v;

        for (int e = 1; e < 256; e++) {
                const char *n = strerrorname_np (e);

                if (n != NULL && strcasecmp (n, name) == 0)
                        return e;
        }
        v = strtol (name, &end, 10);
        return (*name != '\0' && *end == '\0' && v > 0 && v < 256) ? (int) v : -1;
}

static int
parse_ms (const char *s, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (!isdigit ((unsigned char) *s))
                return -EINVAL;
        v = strtoul (s, &end, 10);
        if (*end != '\0' || v > DELAY_MAX_MS)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int
parse_uuid (const char *s, char out[SIM_UUID_LEN + 1])
{
        if (strlen (s) != SIM_UUID_LEN || !uuid_text_valid (s, SIM_UUID_LEN))
                return -EINVAL;
        for (int i = 0; i <= SIM_UUID_LEN; i++)
                out[i] = (char) tolower ((unsigned char) s[i]);
        return 0;
}

static int
blocked_index (const char *uuid)
{
        for (unsigned i = 0; i < sim.faults.nblocked; i++)
                if (strcmp (sim.faults.blocked[i], uuid) == 0)
                        return (int) i;
        return -1;
}

static int
cmd_block (const char *arg, bool block, bool apply)
{
        struct sim_faults *f = &sim.faults;
        char uuid[SIM_UUID_LEN + 1];
        int i;

        if (strcmp (arg, "all") == 0) {
                if (apply && block)
                        f->block_all_removes = true;
                if (apply && !block) {
                        f->block_all_removes = false;
                        f->nblocked = 0;
                }
                return 0;
        }
        if (parse_uuid (arg, uuid) < 0)
                return -EINVAL;
        i = blocked_index (uuid);
        if (block && i < 0 && f->nblocked == SIM_MAX_BLOCKED)
                return -ENOSPC;
        if (!apply)
                return 0;
        if (block && i < 0)
                memcpy (f->blocked[f->nblocked++], uuid, sizeof uuid);
        if (!block && i >= 0)
                memmove (f->blocked[i], f->blocked[i + 1], (f->nblocked-- - (unsigned) i - 1) * sizeof f->blocked[0]);
        return 0;
}

static int
unbind_blocked_index (const char *addr)
{
        for (unsigned i = 0; i < sim.faults.n_unbind_blocked; i++)
                if (strcmp (sim.faults.unbind_blocked[i], addr) == 0)
                        return (int) i;
        return -1;
}

/* block-unbind ADDR|all: a release of that PCI function (of any) from
 * vfio-pci waits until unblocked, as the kernel's does while a process holds
 * the device open. */
static int
cmd_block_unbind (const char *arg, bool block, bool apply)
{
        struct sim_faults *f = &sim.faults;
        char addr[SIM_PCI_ADDR_LEN + 1];
        unsigned domain, bus, devfn;
        int i;

        if (strcmp (arg, "all") == 0) {
                if (apply) {
                        f->block_all_unbinds = block;
                        if (!block)
                                f->n_unbind_blocked = 0;
                }
                return 0;
        }
        if (!pci_addr_parse (arg, &domain, &bus, &devfn))
                return -EINVAL;
        for (size_t k = 0; k <= SIM_PCI_ADDR_LEN; k++)
                addr[k] = (char) tolower ((unsigned char) arg[k]);
        i = unbind_blocked_index (addr);
        if (block && i < 0 && f->n_unbind_blocked == SIM_MAX_BLOCKED)
                return -ENOSPC;
        if (!apply)
                return 0;
        if (block && i < 0)
                memcpy (f->unbind_blocked[f->n_unbind_blocked++], addr, sizeof addr);
        if (!block && i >= 0)
                memmove (f->unbind_blocked[i], f->unbind_blocked[i + 1],
                         (f->n_unbind_blocked-- - (unsigned) i - 1) * sizeof f->unbind_blocked[0]);
        return 0;
}

static int
cmd_hide (const char *arg, bool apply)
{
        char uuid[SIM_UUID_LEN + 1];
        struct sim_device *dev;

        if (strcmp (arg, "on") == 0 || strcmp (arg, "off") == 0) {
                if (apply)
                        sim.faults.hide_groups = strcmp (arg, "on") == 0;
                return 0;
        }
        if (parse_uuid (arg, uuid) < 0)
                return -EINVAL;
        dev = mdev_find (uuid);
        if (dev == NULL)
                return -ENOENT;
        if (apply)
                mdev_hide_group (dev);
        return 0;
}

/* fail-create and fail-probe: ERRNO [COUNT] or off. */
static int
cmd_fail (const char *arg, int *errno_field, unsigned *count_field, bool apply)
{
        char name[64];
        unsigned count = 1;
        int e;

        if (strcmp (arg, "off") == 0) {
                if (apply)
                        *count_field = 0;
                return 0;
        }
        if (sscanf (arg, "%63s %u", name, &count) < 1 || count == 0 || count > 1000000)
                return -EINVAL;
        e = errno_from_name (name);
        if (e <= 0)
                return -EINVAL;
        if (apply) {
                *errno_field = e;
                *count_field = count;
        }
        return 0;
}

/* remove-parent NAME / add-parent NAME: the GPU goes from class/mdev_bus
 * with its mdevs, or comes back. */
static int
cmd_parent (const char *arg, bool add, bool apply)
{
        struct sim_parent *par = mdev_parent_find (arg);

        if (par == NULL)
                return -ENOENT;
        if (!add && mdev_parent_busy (par))
                return -EBUSY; /* found in the checking pass: nothing is applied */
        if (!apply)
                return 0;
        if (add) {
                mdev_parent_add (par);
                return 0;
        }
        return mdev_parent_remove (par);
}

static int
run_command (char *line, bool apply)
{
        char *cmd = line + strspn (line, " \t"), *arg;

        arg = cmd + strcspn (cmd, " \t");
        if (*arg != '\0')
                *arg++ = '\0';
        arg += strspn (arg, " \t");
        arg[strcspn (arg, "\r")] = '\0';
        while (*arg != '\0' && isspace ((unsigned char) arg[strlen (arg) - 1]))
                arg[strlen (arg) - 1] = '\0';
        if (*cmd == '\0')
                return 0;
        if (strcmp (cmd, "reset") == 0 && *arg == '\0') {
                if (apply) {
                        memset (&sim.faults, 0, sizeof sim.faults);
                        for (struct sim_parent *p = sim.parents; p != NULL; p = p->next)
                                mdev_parent_add (p);
                }
                return 0;
        }
        if (strcmp (cmd, "fail-create") == 0)
                return cmd_fail (arg, &sim.faults.fail_create_errno, &sim.faults.fail_create_count, apply);
        if (strcmp (cmd, "fail-probe") == 0)
                return cmd_fail (arg, &sim.faults.fail_probe_errno, &sim.faults.fail_probe_count, apply);
        if (strcmp (cmd, "block-unbind") == 0 || strcmp (cmd, "unblock-unbind") == 0)
                return cmd_block_unbind (arg, strcmp (cmd, "block-unbind") == 0, apply);
        if (strcmp (cmd, "delay-create") == 0 || strcmp (cmd, "delay-remove") == 0) {
                bool create = strcmp (cmd, "delay-create") == 0;
                unsigned ms;

                if (parse_ms (arg, &ms) < 0)
                        return -EINVAL;
                if (apply)
                        *(create ? &sim.faults.delay_create_ms : &sim.faults.delay_remove_ms) = ms;
                return 0;
        }
        if (strcmp (cmd, "block-remove") == 0 || strcmp (cmd, "unblock-remove") == 0)
                return cmd_block (arg, strcmp (cmd, "block-remove") == 0, apply);
        if (strcmp (cmd, "hide-iommu-group") == 0)
                return cmd_hide (arg, apply);
        if (strcmp (cmd, "remove-parent") == 0 || strcmp (cmd, "add-parent") == 0)
                return cmd_parent (arg, strcmp (cmd, "add-parent") == 0, apply);
        if (strcmp (cmd, "blocked-view") == 0 && (strcmp (arg, "whole") == 0 || strcmp (arg, "kernel") == 0)) {
                if (apply)
                        sim.faults.kernel_view = strcmp (arg, "kernel") == 0;
                return 0;
        }
        return -EINVAL;
}

/* Checks every line first, then applies them all, so a bad line leaves
 * the faults as they were. */
static ssize_t
control_store (void *ctx, const char *buf, size_t len)
{
        char text[SIM_ATTR_SIZE + 1];
        (void) ctx;

        for (int pass = 0; pass < 2; pass++) {
                char *save = NULL, *line;

                memcpy (text, buf, len);
                text[len] = '\0';
                for (line = strtok_r (text, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save)) {
                        int r = run_command (line, pass == 1);

                        if (r < 0)
                                return r;
                }
        }
        pthread_cond_broadcast (&sim.cond);
        return (ssize_t) len;
}

static size_t
control_show (void *ctx, char *buf)
{
        const struct sim_faults *f = &sim.faults;
        FILE *out = fmemopen (buf, SIM_ATTR_SIZE, "w");
        bool any_removed = false;
        long len;
        (void) ctx;

        if (out == NULL)
                return 0;
        if (f->fail_create_count > 0)
                fprintf (out, "fail-create %s %u\n", strerrorname_np (f->fail_create_errno), f->fail_create_count);
        else
                fprintf (out, "fail-create off\n");
        fprintf (out, "delay-create %u\ndelay-remove %u\n", f->delay_create_ms, f->delay_remove_ms);
        fprintf (out, "block-remove%s", f->block_all_removes ? " all" : f->nblocked == 0 ? " none" : "");
        for (unsigned i = 0; i < f->nblocked; i++)
                fprintf (out, " %s", f->blocked[i]);
        fprintf (out, "\nhide-iommu-group %s\n", f->hide_groups ? "on" : "off");
        fprintf (out, "blocked-view %s\n", f->kernel_view ? "kernel" : "whole");
        fprintf (out, "removed-parents");
        for (const struct sim_parent *p = sim.parents; p != NULL; p = p->next)
                if (p->removed) {
                        fprintf (out, " %s", p->name);
                        any_removed = true;
                }
        fprintf (out, "%s\n", any_removed ? "" : " none");
        fprintf (out, "group-major %u\ncdev-major %u\n", sim.group_major, sim.cdev_major);
        fprintf (out, "block-unbind%s", f->block_all_unbinds ? " all" : f->n_unbind_blocked == 0 ? " none" : "");
        for (unsigned i = 0; i < f->n_unbind_blocked; i++)
                fprintf (out, " %s", f->unbind_blocked[i]);
        if (f->fail_probe_count > 0)
                fprintf (out, "\nfail-probe %s %u\n", strerrorname_np (f->fail_probe_errno), f->fail_probe_count);
        else
                fprintf (out, "\nfail-probe off\n");
        len = ftell (out);
        fclose (out);
        return len > 0 ? (size_t) len : 0;
}

static const struct attr_ops control_ops = { .show = control_show, .store = control_store };

void
control_build_tree (void)
{
        node_add_attr (node_mkdir_p (".sim"), "control", &control_ops, NULL);
}

/* Consumed by any non-empty create write, before the kernel's own checks:
 * "the next create fails" is what a test means by it. */
int
control_take_create_fault (void)
{
        if (sim.faults.fail_create_count == 0)
                return 0;
        sim.faults.fail_create_count--;
        return sim.faults.fail_create_errno;
}

unsigned
control_delay_ms (enum attr_delay delay)
{
        if (delay == DELAY_CREATE)
                return sim.faults.delay_create_ms;
        return delay == DELAY_REMOVE ? sim.faults.delay_remove_ms : 0;
}

bool
control_remove_blocked (const char *uuid)
{
        return sim.faults.block_all_removes || blocked_index (uuid) >= 0;
}

bool
control_unbind_blocked (const char *addr)
{
        return sim.faults.block_all_unbinds || unbind_blocked_index (addr) >= 0;
}

/* Consumed by a vfio-pci probe, before it makes the VFIO group. */
int
control_take_probe_fault (void)
{
        if (sim.faults.fail_probe_count == 0)
                return 0;
        sim.faults.fail_probe_count--;
        return sim.faults.fail_probe_errno;
}
