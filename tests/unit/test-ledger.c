/* Units: ledger records, owner ids, corrupt records, process liveness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger.h"
#include "pci.h"
#include "util.h"

static vgpu_record_t
sample (void)
{
        vgpu_record_t r = { .uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                            .device = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                            .owner = { .kind = VGPU_OWNER_CONTAINER, .id = "ctr-1" },
                            .request = "auto",
                            .parent = "0000:00:02.0",
                            .type = "i915-GVTg_V5_4",
                            .group = 7,
                            .pid = 1234,
                            .pid_start = 99,
                            .stage = "createRuntime",
                            .state = VGPU_RECORD_ACTIVE,
                            .created = 1,
                            .updated = 2 };
        return r;
}

static void
owner_ids (void **state)
{
        char long_id[200];

        assert_true (vgpu_owner_valid ("0123456789abcdef"));
        assert_true (vgpu_owner_valid ("my-ctr_1.x"));
        assert_false (vgpu_owner_valid ("../../etc/x"));
        assert_false (vgpu_owner_valid (".hidden"));
        assert_false (vgpu_owner_valid (""));
        assert_false (vgpu_owner_valid ("a/b"));
        memset (long_id, 'a', sizeof long_id - 1);
        long_id[sizeof long_id - 1] = '\0';
        assert_false (vgpu_owner_valid (long_id));
        long_id[VGPU_OWNER_MAX] = '\0';
        assert_true (vgpu_owner_valid (long_id));
}

static void
record_round_trip (void **state)
{
        vgpu_record_t a = sample (), b;
        _cleanup_free_ char *text = vgpu_record_format (&a);

        assert_non_null (text);
        assert_int_equal (vgpu_record_parse (text, strlen (text), &b, NULL), 0);
        assert_memory_equal (&a, &b, sizeof a);
}

static void
record_truncated_or_bad (void **state)
{
        vgpu_record_t a = sample (), b;
        _cleanup_free_ char *text = vgpu_record_format (&a);
        vgpu_error_t err = { 0 };
        char *evil;

        for (size_t cut = 0; cut < strlen (text); cut += 7)
                assert_int_equal (vgpu_record_parse (text, cut, &b, &err), -EBADMSG);
        assert_int_equal (err.code, EBADMSG);
        evil = strdup (text);
        memcpy (strstr (evil, "ctr-1"), "../..", 5);
        assert_int_equal (vgpu_record_parse (evil, strlen (evil), &b, &err), -EBADMSG);
        free (evil);
        assert_int_equal (vgpu_record_parse ("{\"uuid\":1}", 10, &b, &err), -EBADMSG);
}

static void
ledger_on_disk (void **state)
{
        char dir[] = "/tmp/vgpu-ledger-XXXXXX";
        vgpu_roots_t roots = { 0 };
        vgpu_ledger_t l;
        vgpu_record_t a = sample (), b, *all = NULL;
        char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        size_t n = 0, n_bad = 0;
        char cmd[300];
        int fd;

        assert_non_null (mkdtemp (dir));
        snprintf (roots.state, sizeof roots.state, "%s/state", dir);
        assert_int_equal (vgpu_ledger_open (&roots, &l, NULL), 0);
        assert_int_equal (vgpu_ledger_put (&l, &a, NULL), 0);
        assert_int_equal (vgpu_ledger_get (&l, a.uuid, &b, NULL), 0);
        assert_string_equal (b.owner.id, "ctr-1");
        assert_int_equal (vgpu_ledger_get (&l, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002", &b, NULL), -ENOENT);
        /* power loss: an empty record file */
        fd = openat (l.dirfd, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003.json", O_CREAT | O_WRONLY, 0600);
        assert_true (fd >= 0);
        close (fd);
        assert_int_equal (vgpu_ledger_get (&l, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003", &b, NULL), -EBADMSG);
        assert_int_equal (vgpu_ledger_list (&l, &all, &n, &bad, &n_bad, NULL, NULL, NULL), 0);
        assert_int_equal (n, 1);
        assert_int_equal (n_bad, 1);
        assert_string_equal (bad[0], "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003");
        free (all);
        free (bad);
        assert_int_equal (vgpu_ledger_del (&l, a.uuid, NULL), 0);
        assert_int_equal (vgpu_ledger_get (&l, a.uuid, &b, NULL), -ENOENT);
        vgpu_ledger_close (&l);
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal (system (cmd), 0);
}

/* Records written before owners had kinds still read: the CDI prefixes
 * become kinds, vgpuctl's stage names its kind, the rest are containers. */
static void
record_legacy (void **state)
{
        static const struct {
                const char *owner, *stage;
                vgpu_owner_kind_t kind;
                const char *id;
        } cases[] = {
                { "ctr-1", "createRuntime", VGPU_OWNER_CONTAINER, "ctr-1" },
                { "cdi-pool.3", "cdi", VGPU_OWNER_CDI_POOL, "3" },
                { "cdi-claim.c1", "cdi", VGPU_OWNER_CDI_CLAIM, "c1" },
                { "agent", "vgpuctl", VGPU_OWNER_VGPUCTL, "agent" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char text[512];
                vgpu_record_t r;

                snprintf (text, sizeof text,
                          "{\"uuid\":\"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\",\"owner\":\"%s\",\"parent\":\"0000:00:02."
                          "0\","
                          "\"type\":\"i915-GVTg_V5_4\",\"group\":7,\"pid\":0,\"pid_start\":0,\"holder\":0,"
                          "\"holder_start\":0,\"stage\":\"%s\",\"state\":\"active\",\"created\":1,\"updated\":2}",
                          cases[i].owner, cases[i].stage);
                assert_int_equal (vgpu_record_parse (text, strlen (text), &r, NULL), 0);
                assert_int_equal (r.owner.kind, cases[i].kind);
                assert_string_equal (r.owner.id, cases[i].id);
                assert_string_equal (r.request, "");
                /* from before VFs: an mdev, named by its uuid */
                assert_int_equal (r.backend, VGPU_BACKEND_MDEV);
                assert_string_equal (r.device, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        }
}

/* A VF's record names its backend and its PCI address, and its uuid is the
 * id of that address: one VF, one record name; a record whose id and
 * address disagree, or with an unknown backend, is corrupt. */
static void
record_vf (void **state)
{
        vgpu_record_t a = sample (), b;
        _cleanup_free_ char *text = NULL;
        vgpu_error_t err = { 0 };
        char other[VGPU_UUID_LEN + 1], *evil, *p;

        a.backend = VGPU_BACKEND_VF;
        memset (a.device, 0, sizeof a.device);
        snprintf (a.device, sizeof a.device, "0000:00:02.3");
        memset (a.type, 0, sizeof a.type);
        snprintf (a.type, sizeof a.type, "vf");
        vgpu_vf_id (a.device, a.uuid);
        text = vgpu_record_format (&a);
        assert_non_null (strstr (text, "\"backend\":\"vf\",\"device\":\"0000:00:02.3\""));
        assert_int_equal (vgpu_record_parse (text, strlen (text), &b, NULL), 0);
        assert_memory_equal (&a, &b, sizeof a);

        vgpu_vf_id ("0000:00:02.4", other);
        assert_string_not_equal (other, a.uuid);
        evil = strdup (text);
        memcpy (strstr (evil, "0000:00:02.3"), "0000:00:02.4", 12);
        assert_int_equal (vgpu_record_parse (evil, strlen (evil), &b, &err), -EBADMSG);
        assert_non_null (strstr (err.msg, "0000:00:02.4"));
        memcpy (strstr (evil, "0000:00:02.4"), "0000:00:02.3", 12);
        p = strstr (evil, "\"vf\",\"device\"");
        memcpy (p, "\"xx\"", 4);
        assert_int_equal (vgpu_record_parse (evil, strlen (evil), &b, &err), -EBADMSG);
        assert_string_equal (err.msg, "ledger record backend \"xx\" is unknown");
        free (evil);
}

/* VF ids: stable (a fixed namespace: changing it would orphan the records
 * of an upgraded host), distinct per address; addresses are lowercase hex. */
static void
vf_ids (void **state)
{
        char a[VGPU_UUID_LEN + 1], b[VGPU_UUID_LEN + 1], out[VGPU_PCI_ADDR_LEN + 1];
        vgpu_error_t err = { 0 };

        vgpu_vf_id ("0000:00:02.1", a);
        assert_string_equal (a, "1a2812f8-5574-5e99-a727-5723ba0dced3"); /* Python's uuid.uuid5 agrees */
        vgpu_vf_id ("0000:00:02.2", b);
        assert_string_not_equal (a, b);
        assert_true (vgpu_pci_addr_valid ("0000:03:00.7"));
        assert_false (vgpu_pci_addr_valid ("0000:03:00.8"));
        assert_false (vgpu_pci_addr_valid ("0000:03:20.0"));
        assert_false (vgpu_pci_addr_valid ("0000:0A:00.0"));
        assert_false (vgpu_pci_addr_valid ("0000:00:02"));
        assert_false (vgpu_pci_addr_valid ("../../x/00.0"));
        assert_int_equal (vgpu_pci_addr_normalise ("0000:0A:00.1", "PF", out, &err), 0);
        assert_string_equal (out, "0000:0a:00.1");
        assert_int_equal (vgpu_pci_addr_normalise ("0000:00:02.0/..", "PF", out, &err), -EINVAL);
        assert_string_equal (err.msg, "PF \"0000:00:02.0/..\" is not a PCI address (DDDD:BB:DD.F)");
}

/* A pool slot's owner is its index within its spec file; two specs' slot 0
 * are two owners, and a container named like a slot is neither. */
static void
owner_kinds (void **state)
{
        vgpu_owner_t a = { VGPU_OWNER_CDI_POOL, "0", "/var/run/cdi/a.json" };
        vgpu_owner_t b = { VGPU_OWNER_CDI_POOL, "0", "/var/run/cdi/b.json" };
        vgpu_owner_t c = { VGPU_OWNER_CONTAINER, "cdi-pool.0", "" };
        vgpu_record_t r = sample (), back;
        char buf[VGPU_OWNER_DISPLAY_MAX];
        _cleanup_free_ char *text = NULL;

        assert_false (vgpu_owner_same (&a, &b));
        assert_false (vgpu_owner_same (&a, &c));
        assert_string_equal (vgpu_owner_display (&a, buf), "cdi-pool.0");
        assert_string_equal (vgpu_owner_display (&c, buf), "cdi-pool.0");
        r.owner = a;
        text = vgpu_record_format (&r);
        assert_int_equal (vgpu_record_parse (text, strlen (text), &back, NULL), 0);
        assert_true (vgpu_owner_same (&back.owner, &a));
}

/* Entries that are no regular file are named as strangers, never read (a
 * FIFO would block), never taken for records. */
static void
ledger_strangers (void **state)
{
        char dir[] = "/tmp/vgpu-ledger-XXXXXX", cmd[300];
        vgpu_roots_t roots = { 0 };
        vgpu_ledger_t l;
        vgpu_record_t *all = NULL;
        char (*bad)[VGPU_UUID_LEN + 1] = NULL, (*odd)[VGPU_UUID_LEN + 1] = NULL;
        size_t n = 9, n_bad = 9, n_odd = 9;

        assert_non_null (mkdtemp (dir));
        snprintf (roots.state, sizeof roots.state, "%s/state", dir);
        assert_int_equal (vgpu_ledger_open (&roots, &l, NULL), 0);
        assert_int_equal (mkfifoat (l.dirfd, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1004.json", 0600), 0);
        assert_int_equal (mkdirat (l.dirfd, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1005.json", 0700), 0);
        assert_int_equal (vgpu_ledger_list (&l, &all, &n, &bad, &n_bad, &odd, &n_odd, NULL), 0);
        assert_int_equal (n + n_bad, 0);
        assert_int_equal (n_odd, 2);
        for (size_t i = 0; i < n_odd; i++)
                assert_int_equal (vgpu_ledger_remove_stranger (&l, odd[i], NULL), 0);
        free (all);
        free (bad);
        free (odd);
        assert_int_equal (vgpu_ledger_list (&l, &all, &n, &bad, &n_bad, &odd, &n_odd, NULL), 0);
        assert_int_equal (n + n_bad + n_odd, 0);
        free (all);
        free (bad);
        free (odd);
        vgpu_ledger_close (&l);
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal (system (cmd), 0);
}

/* A record's file carries its owner; an owner's records are listed without
 * reading anyone else's; a record of the old name is read, and moved to the
 * new name when written again. */
static void
ledger_names (void **state)
{
        char dir[] = "/tmp/vgpu-ledger-XXXXXX", cmd[300], old[128];
        vgpu_roots_t roots = { 0 };
        vgpu_record_t a = sample (), b = sample (), *mine = NULL, got;
        vgpu_owner_t who = a.owner;
        vgpu_ledger_t l;
        size_t n = 0;
        int fd;

        assert_non_null (mkdtemp (dir));
        snprintf (roots.state, sizeof roots.state, "%s/state", dir);
        assert_int_equal (vgpu_ledger_open (&roots, &l, NULL), 0);
        snprintf (b.uuid, sizeof b.uuid, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1010");
        snprintf (b.owner.id, sizeof b.owner.id, "ctr-10");
        assert_int_equal (vgpu_ledger_put (&l, &a, NULL), 0);
        assert_int_equal (vgpu_ledger_put (&l, &b, NULL), 0);
        assert_int_equal (faccessat (l.dirfd, "container.ctr-1.83b8f4f2-509f-382f-3c1e-e6bfe0fa1001.json", F_OK, 0), 0);
        /* a record nobody could read does not stop another owner's listing */
        fd = openat (l.dirfd, "container.ctr-10.83b8f4f2-509f-382f-3c1e-e6bfe0fa1010.json", O_WRONLY | O_TRUNC);
        assert_true (fd >= 0);
        close (fd);
        assert_int_equal (vgpu_ledger_list_owned (&l, &who, &mine, &n, NULL), 0);
        assert_int_equal (n, 1);
        assert_string_equal (mine[0].uuid, a.uuid);
        free (mine);
        /* the old name */
        assert_int_equal (vgpu_ledger_del (&l, a.uuid, NULL), 0);
        snprintf (old, sizeof old, "%s.json", a.uuid);
        {
                _cleanup_free_ char *text = vgpu_record_format (&a);

                assert_int_equal (vgpu_write_file_atomic (l.dirfd, old, text, strlen (text), 0600), 0);
        }
        assert_int_equal (vgpu_ledger_get (&l, a.uuid, &got, NULL), 0);
        assert_int_equal (vgpu_ledger_list_owned (&l, &who, &mine, &n, NULL), 0);
        assert_int_equal (n, 1);
        free (mine);
        assert_int_equal (vgpu_ledger_put (&l, &got, NULL), 0);
        assert_int_equal (faccessat (l.dirfd, old, F_OK, 0), -1);
        assert_int_equal (faccessat (l.dirfd, "container.ctr-1.83b8f4f2-509f-382f-3c1e-e6bfe0fa1001.json", F_OK, 0), 0);
        vgpu_ledger_close (&l);
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal (system (cmd), 0);
}

/* A state directory anyone may write, or a link, is refused with a line
 * that says why. */
static void
state_dir_private (void **state)
{
        char dir[] = "/tmp/vgpu-ledger-XXXXXX", cmd[300], link[PATH_MAX];
        vgpu_roots_t roots = { 0 };
        vgpu_error_t err = { 0 };
        vgpu_ledger_t l;

        assert_non_null (mkdtemp (dir));
        snprintf (roots.state, sizeof roots.state, "%s/state", dir);
        assert_int_equal (mkdir (roots.state, 0777), 0);
        assert_int_equal (chmod (roots.state, 0777), 0);
        assert_int_equal (vgpu_ledger_open (&roots, &l, &err), -EPERM);
        assert_non_null (strstr (err.msg, "mode 0777"));
        assert_int_equal (chmod (roots.state, 0700), 0);
        snprintf (link, sizeof link, "%s/link", dir);
        assert_int_equal (symlink (roots.state, link), 0);
        snprintf (roots.state, sizeof roots.state, "%s", link);
        assert_int_equal (vgpu_ledger_open (&roots, &l, &err), -ELOOP);
        assert_non_null (strstr (err.msg, "is a symbolic link"));
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal (system (cmd), 0);
}

static void
process_liveness (void **state)
{
        unsigned long long start;
        pid_t child;

        assert_int_equal (vgpu_proc_start (getpid (), &start), 0);
        assert_true (vgpu_proc_alive (getpid (), start));
        assert_false (vgpu_proc_alive (getpid (), start + 1)); /* a reused pid */
        child = fork ();
        if (child == 0)
                _exit (0);
        waitpid (child, NULL, 0);
        assert_false (vgpu_proc_alive (child, start));
        /* a zombie has ended, though /proc still shows it */
        child = fork ();
        if (child == 0)
                _exit (0);
        while (vgpu_proc_start (child, &start) == 0) {
                char path[64], text[256];
                FILE *f;

                snprintf (path, sizeof path, "/proc/%d/stat", (int) child);
                f = fopen (path, "r");
                if (f && fgets (text, sizeof text, f) && strstr (text, ") Z ")) {
                        fclose (f);
                        break;
                }
                if (f)
                        fclose (f);
                usleep (1000);
        }
        assert_int_equal (vgpu_proc_start (child, &start), 0);
        assert_false (vgpu_proc_alive (child, start));
        waitpid (child, NULL, 0);
        assert_int_equal (vgpu_proc_start (child, &start), -ESRCH);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (owner_ids),
                cmocka_unit_test (record_round_trip),
                cmocka_unit_test (record_truncated_or_bad),
                cmocka_unit_test (ledger_on_disk),
                cmocka_unit_test (record_legacy),
                cmocka_unit_test (record_vf),
                cmocka_unit_test (vf_ids),
                cmocka_unit_test (owner_kinds),
                cmocka_unit_test (ledger_strangers),
                cmocka_unit_test (ledger_names),
                cmocka_unit_test (state_dir_private),
                cmocka_unit_test (process_liveness),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
