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
#include <sys/wait.h>
#include <unistd.h>

#include "ledger.h"
#include "util.h"

static vgpu_record_t
sample (void)
{
        vgpu_record_t r = { .uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                            .owner = "ctr-1",
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
        assert_string_equal (b.owner, "ctr-1");
        assert_int_equal (vgpu_ledger_get (&l, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002", &b, NULL), -ENOENT);
        /* power loss: an empty record file */
        fd = openat (l.dirfd, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003.json", O_CREAT | O_WRONLY, 0600);
        assert_true (fd >= 0);
        close (fd);
        assert_int_equal (vgpu_ledger_get (&l, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003", &b, NULL), -EBADMSG);
        assert_int_equal (vgpu_ledger_list (&l, &all, &n, &bad, &n_bad, NULL), 0);
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
                cmocka_unit_test (process_liveness),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
