/* Units: the SR-IOV config (pf.h): its fields, each error naming the
 * field and the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "pf.h"

static int
parse (const char *text, vgpu_sriov_conf_t *conf, vgpu_error_t *err)
{
        *conf = (vgpu_sriov_conf_t) { 0 };
        return vgpu_sriov_conf_parse (text, strlen (text), conf, err);
}

static void
conf_fields (void **state)
{
        vgpu_sriov_conf_t c;

        assert_int_equal (parse ("{}", &c, NULL), 0);
        assert_int_equal (c.n_pfs, 0);
        assert_int_equal (parse ("{\"pfs\": []}", &c, NULL), 0);
        assert_int_equal (c.n_pfs, 0);
        assert_int_equal (parse ("{\"pfs\": [{\"address\": \"0000:00:02.0\", \"return_driver\": \"nvme\"},"
                                 " {\"address\": \"0000:03:00.0\"}, {\"address\": \"0000:0A:00.0\", \"return_driver\": "
                                 "\"none\"}]}",
                                 &c, NULL),
                          0);
        assert_int_equal (c.n_pfs, 3);
        assert_string_equal (c.pfs[0].address, "0000:00:02.0");
        assert_string_equal (c.pfs[0].return_driver, "nvme");
        assert_string_equal (c.pfs[1].return_driver, "");
        assert_string_equal (c.pfs[2].address, "0000:0a:00.0"); /* the kernel's lowercase */
        assert_string_equal (c.pfs[2].return_driver, "none");
}

static void
conf_errors (void **state)
{
        static const struct {
                const char *text, *msg;
        } bad[] = {
                { "[]", "SR-IOV config is not a JSON object" },
                { "{\"pfs\": {}}", "SR-IOV config field \"pfs\" must be an array" },
                { "{\"pfs\": [{}]}", "pfs[0] lacks field \"address\"" },
                { "{\"pfs\": [{\"address\": 2}]}", "pfs[0] field \"address\" must be a string" },
                { "{\"pfs\": [{\"address\": \"0000:00:02\"}]}",
                  "pfs[0].address \"0000:00:02\" is not a PCI address (DDDD:BB:DD.F)" },
                { "{\"pfs\": [{\"address\": \"../../0:02.0\"}]}",
                  "pfs[0].address \"../../0:02.0\" is not a PCI address (DDDD:BB:DD.F)" },
                { "{\"pfs\": [{\"address\": \"0000:00:02.0\", \"return_driver\": \"vfio-pci\"}]}",
                  "pfs[0].return_driver \"vfio-pci\" is not a driver name (or \"none\")" },
                { "{\"pfs\": [{\"address\": \"0000:00:02.0\", \"return_driver\": \"a/b\"}]}",
                  "pfs[0].return_driver \"a/b\" is not a driver name (or \"none\")" },
                { "{\"pfs\": [{\"address\": \"0000:00:02.0\"}, {\"address\": \"0000:00:02.0\"}]}",
                  "pfs[1].address 0000:00:02.0 is pfs[0]'s too" },
        };
        vgpu_sriov_conf_t c;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                vgpu_error_t err = { 0 };
                int r = parse (bad[i].text, &c, &err);

                assert_true (err.code > 0);
                assert_int_equal (r, -err.code);
                assert_string_equal (err.msg, bad[i].msg);
        }
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (conf_fields),
                cmocka_unit_test (conf_errors),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
