/* vgpu-sim: the GPU table, from a config file or the built-in seed GPU:
 * mdev parents with their types, and SR-IOV PFs.
 *
 * The format is described at the top of vgpu-sim.c and in README.md. Both
 * the file and the built-in table go through one parser, so the default
 * cannot drift from what a config file can express. */

#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The seed's host: one GVT-g GPU with the kernel 6.1 type table
 * (drivers/gpu/drm/i915/gvt/vgpu.c intel_vgpu_configs: weight is
 * VGPU_WEIGHT(n) = 16 / n) and an aperture that leaves 640 MB low GM,
 * 2816 MB high GM and 28 fences to guests: 1/2/5/7 instances. */
static const char default_config[] = "parent 0000:00:02.0 pci0000:00/0000:00:02.0\n"
                                     "driver intel_vgpu_mdev\n"
                                     "budget 640 2816 28\n"
                                     "exhausted ENOSPC\n"
                                     "gvt-type i915-GVTg_V5_1 512 2048 4 16 1920x1200\n"
                                     "gvt-type i915-GVTg_V5_2 256 1024 4 8 1920x1200\n"
                                     "gvt-type i915-GVTg_V5_4 128 512 4 4 1920x1200\n"
                                     "gvt-type i915-GVTg_V5_8 64 384 4 2 1024x768\n";

struct parser {
        struct sim_parent *parents;
        struct sim_pci *pfs;
        bool vfio_pci;
        struct sim_pci *pf;        /* the one PF keywords edit (NULL after a `parent`) */
        struct sim_parent *parent; /* the one `type` lines attach to */
        struct sim_type *type;     /* the one `name`, `cost`... lines edit */
        unsigned line;
        char *err;
        size_t errlen;
};

static int fail (struct parser *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
fail (struct parser *p, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf (p->err, p->errlen, "line %u: ", p->line);

        va_start (ap, fmt);
        if (n >= 0 && (size_t) n < p->errlen)
                vsnprintf (p->err + n, p->errlen - n, fmt, ap);
        va_end (ap);
        return -EINVAL;
}

static char *
xstrdup (const char *s)
{
        char *d = strdup (s);

        if (d == NULL)
                abort ();
        return d;
}

/* Decodes \n, \t and \\ so one config line can hold a multi-line sysfs text. */
static char *
unescape (const char *s)
{
        char *out = xstrdup (s), *o = out;

        for (; *s != '\0'; s++) {
                if (*s == '\\' && s[1] != '\0') {
                        s++;
                        *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
        return out;
}

static int
parse_uint (const char *s, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (s == NULL || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul (s, &end, 10);
        if (errno != 0 || *end != '\0' || v > 1000000000UL)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* "N [N [N]]" into a resource vector; missing entries are 0 (unused). */
static int
parse_vector (struct parser *p, char *args, unsigned out[SIM_NRES], const char *what)
{
        char *save = NULL, *tok;
        unsigned i = 0;

        memset (out, 0, sizeof (unsigned) * SIM_NRES);
        for (tok = strtok_r (args, " \t", &save); tok != NULL; tok = strtok_r (NULL, " \t", &save)) {
                if (i == SIM_NRES || parse_uint (tok, &out[i]) < 0)
                        return fail (p, "%s wants 1 to %d numbers", what, SIM_NRES);
                i++;
        }
        return i == 0 ? fail (p, "%s wants 1 to %d numbers", what, SIM_NRES) : 0;
}

static int
add_parent (struct parser *p, char *args)
{
        char name[128], path[512], extra;
        struct sim_parent *par, **tail;

        if (sscanf (args, "%127s %511s %c", name, path, &extra) != 2)
                return fail (p, "usage: parent NAME PATH-BELOW-devices/");
        for (tail = &p->parents; *tail != NULL; tail = &(*tail)->next)
                if (strcmp ((*tail)->name, name) == 0)
                        return fail (p, "parent %s twice", name);
        par = calloc (1, sizeof *par);
        if (par == NULL)
                abort ();
        par->name = xstrdup (name);
        par->path = xstrdup (path);
        par->driver = xstrdup ("vfio_mdev");
        par->pool[0] = 1;
        par->exhausted_errno = ENOSPC;
        par->name_attr = true;
        *tail = par;
        p->parent = par;
        p->type = NULL;
        p->pf = NULL;
        return 0;
}

/* DDDD:BB:DD.F in hex, as the kernel names PCI functions. */
bool
pci_addr_parse (const char *s, unsigned *domain, unsigned *bus, unsigned *devfn)
{
        static const char shape[] = "xxxx:xx:xx.x";
        unsigned d, b, dev, fn;

        if (strlen (s) != sizeof shape - 1)
                return false;
        for (size_t i = 0; shape[i] != '\0'; i++)
                if (shape[i] == 'x' ? !isxdigit ((unsigned char) s[i]) : s[i] != shape[i])
                        return false;
        if (sscanf (s, "%4x:%2x:%2x.%1x", &d, &b, &dev, &fn) != 4 || dev > 0x1f || fn > 7)
                return false;
        *domain = d;
        *bus = b;
        *devfn = dev << 3 | fn;
        return true;
}

static int
add_pf (struct parser *p, char *args)
{
        char name[64], path[512], extra;
        unsigned d, b, df;
        struct sim_pci *pf, **tail;
        const char *base;

        if (sscanf (args, "%63s %511s %c", name, path, &extra) != 2)
                return fail (p, "usage: pf ADDRESS PATH-BELOW-devices/");
        base = strrchr (path, '/');
        if (!pci_addr_parse (name, &d, &b, &df) || strcmp (base != NULL ? base + 1 : path, name) != 0)
                return fail (p, "pf %s: wants a PCI address DDDD:BB:DD.F that ends its path", name);
        for (tail = &p->pfs; *tail != NULL; tail = &(*tail)->next)
                if (strcmp ((*tail)->addr, name) == 0)
                        return fail (p, "pf %s twice", name);
        pf = calloc (1, sizeof *pf);
        if (pf == NULL)
                abort ();
        memcpy (pf->addr, name, sizeof pf->addr); /* 12 characters and the NUL, checked above */
        pf->path = xstrdup (path);
        pf->vendor = 0x8086;
        pf->device = 0x4680;
        pf->class = 0x030000;
        pf->native = xstrdup ("i915");
        pf->totalvfs = 7;
        pf->offset = pf->stride = 1;
        pf->vf_device = UINT_MAX; /* the PF's device id unless `vf-device` says */
        pf->autoprobe = true;
        pf->group = pf->vfio_index = -1;
        *tail = pf;
        p->pf = pf;
        p->parent = NULL;
        p->type = NULL;
        return 0;
}

static int
parse_hex (const char *s, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (strncmp (s, "0x", 2) != 0 || !isxdigit ((unsigned char) s[2]))
                return -EINVAL;
        errno = 0;
        v = strtoul (s + 2, &end, 16);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int
pf_key (struct parser *p, const char *key, char *arg)
{
        static const struct {
                const char *key;
                size_t off;
                unsigned max;
                bool hex;
        } nums[] = {
                { "vendor", offsetof (struct sim_pci, vendor), 0xffff, true },
                { "device", offsetof (struct sim_pci, device), 0xffff, true },
                { "class", offsetof (struct sim_pci, class), 0xffffff, true },
                { "vf-device", offsetof (struct sim_pci, vf_device), 0xffff, true },
                { "totalvfs", offsetof (struct sim_pci, totalvfs), 255, false },
                { "vf-offset", offsetof (struct sim_pci, offset), 255, false },
                { "vf-stride", offsetof (struct sim_pci, stride), 255, false },
                { "numvfs", offsetof (struct sim_pci, start_vfs), 255, false },
        };
        struct sim_pci *pf = p->pf;

        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
                unsigned *field = (unsigned *) ((char *) pf + nums[i].off);

                if (strcmp (key, nums[i].key) != 0)
                        continue;
                if ((nums[i].hex ? parse_hex (arg, nums[i].max, field) : parse_uint (arg, field)) < 0 ||
                    *field > nums[i].max)
                        return fail (p, "%s wants %s up to %u", key, nums[i].hex ? "0xHEX" : "a number", nums[i].max);
                return 0;
        }
        if (strcmp (key, "driver") == 0) {
                free (pf->native);
                pf->native = xstrdup (arg);
                return *arg == '\0' || strchr (arg, '/') != NULL || strcmp (arg, "vfio-pci") == 0
                               ? fail (p, "bad PF driver name '%s'", arg)
                               : 0;
        }
        if (strcmp (key, "autoprobe") == 0 || strcmp (key, "cdev") == 0) {
                bool on = strcmp (arg, "1") == 0 || strcmp (arg, "on") == 0;

                if (!on && strcmp (arg, "0") != 0 && strcmp (arg, "off") != 0)
                        return fail (p, "%s wants on or off", key);
                *(strcmp (key, "cdev") == 0 ? &pf->cdev : &pf->autoprobe) = on;
                return 0;
        }
        return fail (p, "unknown keyword '%s'", key);
}

static int
add_type (struct parser *p, const char *id)
{
        struct sim_parent *par;
        struct sim_type *t, **tail;

        if (p->parent == NULL)
                return fail (p, "type before any parent");
        if (*id == '\0' || strchr (id, '/') != NULL || strchr (id, ' ') != NULL)
                return fail (p, "bad type name '%s'", id);
        for (par = p->parents; par != NULL; par = par->next)
                for (t = par->types; t != NULL; t = t->next)
                        if (par == p->parent && strcmp (t->id, id) == 0)
                                return fail (p, "type %s twice", id);
        t = calloc (1, sizeof *t);
        if (t == NULL)
                abort ();
        t->id = xstrdup (id);
        t->name = xstrdup (id);
        t->device_api = xstrdup ("vfio-pci");
        t->cost[0] = 1;
        t->parent = p->parent;
        for (tail = &p->parent->types; *tail != NULL; tail = &(*tail)->next)
                ;
        *tail = t;
        p->type = t;
        return 0;
}

/* gvt-type ID LOW_MB HIGH_MB FENCES WEIGHT RESOLUTION: a type as i915's
 * kvmgt shows it (description_show in kernel 6.1). */
static int
add_gvt_type (struct parser *p, char *args)
{
        char id[128], res[32], extra;
        unsigned low, high, fence, weight;
        const char *dash;

        if (sscanf (args, "%127s %u %u %u %u %31s %c", id, &low, &high, &fence, &weight, res, &extra) != 6)
                return fail (p, "usage: gvt-type ID LOW_MB HIGH_MB FENCES WEIGHT RESOLUTION");
        if (low == 0 || high == 0 || fence == 0)
                return fail (p, "gvt-type sizes must be > 0");
        if (add_type (p, id) < 0)
                return -EINVAL;
        dash = strchr (id, '-');
        free (p->type->name);
        p->type->name = xstrdup (dash != NULL ? dash + 1 : id);
        if (asprintf (&p->type->description,
                      "low_gm_size: %uMB\nhigh_gm_size: %uMB\nfence: %u\nresolution: %s\nweight: %u", low, high, fence,
                      res, weight) < 0)
                abort ();
        p->type->cost[0] = low;
        p->type->cost[1] = high;
        p->type->cost[2] = fence;
        return 0;
}

static int
set_text (struct parser *p, char **field, const char *arg, const char *key)
{
        if (p->type == NULL)
                return fail (p, "%s before any type", key);
        free (*field);
        *field = unescape (arg);
        return 0;
}

static int
parent_key (struct parser *p, const char *key, char *arg)
{
        if (p->pf != NULL)
                return pf_key (p, key, arg);
        if (p->parent == NULL)
                return fail (p, "%s before any parent", key);
        if (strcmp (key, "driver") == 0) {
                free (p->parent->driver);
                p->parent->driver = xstrdup (arg);
                return *arg == '\0' || strchr (arg, '/') != NULL ? fail (p, "bad driver name") : 0;
        }
        if (strcmp (key, "budget") == 0)
                return parse_vector (p, arg, p->parent->pool, "budget");
        if (strcmp (key, "exhausted") == 0) {
                p->parent->exhausted_errno = errno_from_name (arg);
                return p->parent->exhausted_errno > 0 ? 0 : fail (p, "unknown errno name '%s'", arg);
        }
        if (strcmp (key, "cdev") == 0 || strcmp (key, "name-attr") == 0) {
                if (strcmp (arg, "on") != 0 && strcmp (arg, "off") != 0)
                        return fail (p, "%s wants on or off", key);
                *(strcmp (key, "cdev") == 0 ? &p->parent->cdev : &p->parent->name_attr) = strcmp (arg, "on") == 0;
                return 0;
        }
        return fail (p, "unknown keyword '%s'", key);
}

static int
parse_line (struct parser *p, char *line)
{
        char *key, *arg;
        size_t klen;

        line[strcspn (line, "\r")] = '\0';
        key = line + strspn (line, " \t");
        if (*key == '#' || *key == '\0')
                return 0;
        klen = strcspn (key, " \t");
        arg = key + klen;
        if (*arg != '\0')
                *arg++ = '\0';
        arg += strspn (arg, " \t");
        if (strcmp (key, "parent") == 0)
                return add_parent (p, arg);
        if (strcmp (key, "pf") == 0)
                return add_pf (p, arg);
        if (strcmp (key, "vfio-pci") == 0) {
                if (strcmp (arg, "on") != 0 && strcmp (arg, "off") != 0)
                        return fail (p, "vfio-pci wants on or off");
                p->vfio_pci = strcmp (arg, "on") == 0;
                return 0;
        }
        if (strcmp (key, "type") == 0)
                return add_type (p, arg);
        if (strcmp (key, "gvt-type") == 0)
                return add_gvt_type (p, arg);
        if (strcmp (key, "name") == 0)
                return set_text (p, p->type != NULL ? &p->type->name : NULL, arg, key);
        if (strcmp (key, "description") == 0)
                return set_text (p, p->type != NULL ? &p->type->description : NULL, arg, key);
        if (strcmp (key, "device_api") == 0)
                return set_text (p, p->type != NULL ? &p->type->device_api : NULL, arg, key);
        if (strcmp (key, "cost") == 0)
                return p->type == NULL ? fail (p, "cost before any type")
                                       : parse_vector (p, arg, p->type->cost, "cost");
        return parent_key (p, key, arg);
}

static int
config_parse (char *text, struct sim_config *ret, char *errbuf, size_t errlen)
{
        struct parser p = { .err = errbuf, .errlen = errlen, .vfio_pci = true };
        char *line = text;
        int r = 0;

        while (line != NULL && r == 0) {
                char *nl = strchr (line, '\n');

                if (nl != NULL)
                        *nl = '\0';
                p.line++;
                r = parse_line (&p, line);
                line = nl != NULL ? nl + 1 : NULL;
        }
        for (struct sim_pci *pf = p.pfs; pf != NULL && r == 0; pf = pf->next)
                r = pci_check_config (pf, errbuf, errlen);
        if (r < 0) {
                config_free (p.parents);
                pci_free (p.pfs);
                return r;
        }
        *ret = (struct sim_config) { .parents = p.parents, .pfs = p.pfs, .vfio_pci = p.vfio_pci };
        return 0;
}

int
config_load_default (struct sim_config *ret, char *errbuf, size_t errlen)
{
        char *text = xstrdup (default_config);
        int r = config_parse (text, ret, errbuf, errlen);

        free (text);
        return r;
}

#define CONFIG_MAX (256 * 1024) /* far above any GPU table; bounds the read */

int
config_load_file (const char *path, struct sim_config *ret, char *errbuf, size_t errlen)
{
        FILE *f = fopen (path, "re");
        char *text;
        size_t len;
        int r;

        if (f == NULL) {
                r = -errno;
                snprintf (errbuf, errlen, "open %s: %s", path, strerror (-r));
                return r;
        }
        text = calloc (1, CONFIG_MAX + 1);
        if (text == NULL)
                abort ();
        len = fread (text, 1, CONFIG_MAX + 1, f);
        fclose (f);
        if (len > CONFIG_MAX) {
                snprintf (errbuf, errlen, "%s: larger than %d bytes", path, CONFIG_MAX);
                r = -EFBIG;
        } else {
                char msg[256];

                text[len] = '\0';
                r = config_parse (text, ret, msg, sizeof msg);
                if (r < 0)
                        snprintf (errbuf, errlen, "%s: %s", path, msg);
        }
        free (text);
        return r;
}

void
config_free (struct sim_parent *parents)
{
        while (parents != NULL) {
                struct sim_parent *next = parents->next;

                while (parents->types != NULL) {
                        struct sim_type *t = parents->types;

                        parents->types = t->next;
                        free (t->id);
                        free (t->name);
                        free (t->description);
                        free (t->device_api);
                        free (t);
                }
                free (parents->name);
                free (parents->path);
                free (parents->driver);
                free (parents);
                parents = next;
        }
}
