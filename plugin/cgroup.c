/* cgroup.c — see cgroup.h. */
#include "cgroup.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

#define PROC_MAX (1u << 20)

/* Absolute, and no empty, "." or ".." component ("/" itself is fine). */
static bool
path_ok (const char *path)
{
        const char *c = path + 1;

        if (path[0] != '/')
                return false;
        while (*c) {
                size_t l = strcspn (c, "/");

                if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += l + (c[l] == '/');
        }
        return true;
}

static bool
has_token (const char *list, const char *token)
{
        size_t tl = strlen (token);

        for (const char *c = list; *c;) {
                size_t l = strcspn (c, ",");

                if (l == tl && strncmp (c, token, l) == 0)
                        return true;
                c += l + (c[l] == ',');
        }
        return false;
}

static int
copy_path (char *dst, const char *src, size_t len, size_t line, vgpu_error_t *err)
{
        if (len >= PATH_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "/proc cgroup line %zu: path too long", line);
        memcpy (dst, src, len);
        dst[len] = '\0';
        if (!path_ok (dst))
                return vgpu_error_set (err, EINVAL, "/proc cgroup line %zu: path %s is not a clean absolute path", line,
                                       dst);
        return 0;
}

int
vgpu_cgroup_parse_proc (const char *text, vgpu_cgroup_proc_t *ret, vgpu_error_t *err)
{
        size_t line = 0;

        ret->devices[0] = ret->unified[0] = '\0';
        for (const char *p = text; *p;) {
                size_t len = strcspn (p, "\n");
                const char *c1 = memchr (p, ':', len), *c2, *path;
                char controllers[256];
                size_t clen;
                int r = 0;

                line++;
                if (len == 0) {
                        p++;
                        continue;
                }
                c2 = c1 ? memchr (c1 + 1, ':', len - (size_t) (c1 + 1 - p)) : NULL;
                if (!c2)
                        return vgpu_error_set (err, EINVAL, "/proc cgroup line %zu: not ID:CONTROLLERS:PATH", line);
                clen = (size_t) (c2 - c1 - 1);
                if (clen >= sizeof controllers)
                        return vgpu_error_set (err, EINVAL, "/proc cgroup line %zu: controller list too long", line);
                memcpy (controllers, c1 + 1, clen);
                controllers[clen] = '\0';
                path = c2 + 1;
                if (c1 - p == 1 && p[0] == '0' && clen == 0)
                        r = copy_path (ret->unified, path, len - (size_t) (path - p), line, err);
                else if (has_token (controllers, "devices"))
                        r = copy_path (ret->devices, path, len - (size_t) (path - p), line, err);
                if (r < 0)
                        return r;
                p += len + (p[len] == '\n');
        }
        return 0;
}

/* Copy one space-separated mountinfo field, decoding \ooo escapes. */
static const char *
field (const char *p, char *out, size_t size)
{
        size_t o = 0;

        while (*p == ' ')
                p++;
        for (; *p && *p != ' ' && *p != '\n'; p++) {
                char ch = *p;

                if (ch == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        ch = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                }
                if (o + 1 < size)
                        out[o++] = ch;
        }
        out[o] = '\0';
        return p;
}

/* One mountinfo line: fills point and root when it is the wanted mount. */
static bool
mount_matches (const char *line, bool v2, vgpu_cgroup_mount_t *m)
{
        char tok[PATH_MAX], fstype[64], opts[1024];
        const char *p = line;

        p = field (p, tok, sizeof tok); /* mount id */
        p = field (p, tok, sizeof tok); /* parent id */
        p = field (p, tok, sizeof tok); /* major:minor */
        p = field (p, m->root, sizeof m->root);
        p = field (p, m->point, sizeof m->point);
        p = field (p, tok, sizeof tok); /* mount options */
        do
                p = field (p, tok, sizeof tok); /* optional fields up to "-" */
        while (tok[0] && strcmp (tok, "-") != 0);
        p = field (p, fstype, sizeof fstype);
        p = field (p, tok, sizeof tok); /* source */
        field (p, opts, sizeof opts);
        if (v2)
                return strcmp (fstype, "cgroup2") == 0;
        return strcmp (fstype, "cgroup") == 0 && has_token (opts, "devices");
}

int
vgpu_cgroup_find_mount (const char *mountinfo, bool v2, vgpu_cgroup_mount_t *ret, vgpu_error_t *err)
{
        vgpu_cgroup_mount_t m;
        bool found = false;

        for (const char *p = mountinfo; *p;) {
                size_t len = strcspn (p, "\n");

                if (len > 0 && mount_matches (p, v2, &m) && m.point[0] == '/' &&
                    (!found || strcmp (m.root, "/") == 0)) {
                        bool best = strcmp (m.root, "/") == 0;

                        *ret = m;
                        found = true;
                        if (best)
                                break;
                }
                p += len + (p[len] == '\n');
        }
        if (!found)
                return vgpu_error_set (err, ENOENT, "no %s mount in mountinfo", v2 ? "cgroup2" : "cgroup v1 devices");
        return 0;
}

/* The cgroup's path below the mount point, "." for the mount's own root. */
static int
below_mount (const vgpu_cgroup_mount_t *m, const char *path, char *out, size_t size, vgpu_error_t *err)
{
        size_t rl = strlen (m->root);
        const char *rest = path;

        if (strcmp (m->root, "/") != 0) {
                if (strncmp (path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
                        return vgpu_error_set (err, ENOENT, "cgroup %s is not below the cgroup mount at %s (root %s)",
                                               path, m->point, m->root);
                rest = path + rl;
        }
        while (*rest == '/')
                rest++;
        snprintf (out, size, "%s", *rest ? rest : ".");
        return 0;
}

static int
open_cgroup (const vgpu_cgroup_mount_t *m, const char *path, vgpu_cgroup_undo_t *undo, vgpu_error_t *err)
{
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int mfd = -1;
        char rel[PATH_MAX];
        int fd, r;

        r = below_mount (m, path, rel, sizeof rel, err);
        if (r < 0)
                return r;
        if (snprintf (undo->path, sizeof undo->path, "%s%s%s", m->point, strcmp (rel, ".") ? "/" : "",
                      strcmp (rel, ".") ? rel : "") >= (int) sizeof undo->path)
                return vgpu_error_set (err, ENAMETOOLONG, "cgroup %s below %s: path too long", path, m->point);
        mfd = open (m->point, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0)
                return vgpu_error_sys (err, errno, "cgroup mount %s", m->point);
        fd = (int) syscall (SYS_openat2, mfd, rel, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS) /* rel is already free of "..": O_NOFOLLOW guards the last step */
                fd = openat (mfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "device cgroup %s", undo->path);
        return fd;
}

static bool
number_matches (const char *field_text, unsigned want)
{
        unsigned long long v;

        if (strcmp (field_text, "*") == 0)
                return true;
        return vgpu_parse_uint (field_text, UINT_MAX, &v) == 0 && v == want;
}

/* Is "c maj:min rwm" already granted by a line of devices.list? */
static bool
v1_granted (const char *list, unsigned maj, unsigned min)
{
        for (const char *p = list; *p;) {
                size_t len = strcspn (p, "\n");
                char type, smaj[16], smin[16], acc[8];
                char line[64];

                snprintf (line, sizeof line, "%.*s", (int) (len < 63 ? len : 63), p);
                p += len + (p[len] == '\n');
                if (sscanf (line, "%c %15[^:]:%15s %7s", &type, smaj, smin, acc) != 4)
                        continue;
                if ((type == 'a' || type == 'c') && number_matches (smaj, maj) && number_matches (smin, min) &&
                    strchr (acc, 'r') && strchr (acc, 'w') && strchr (acc, 'm'))
                        return true;
        }
        return false;
}

static int
v1_write (int dirfd, const char *file, unsigned maj, unsigned min)
{
        char rule[64];
        int len = snprintf (rule, sizeof rule, "c %u:%u rwm", maj, min);

        return vgpu_write_attr_at (dirfd, file, rule, (size_t) len);
}

static bool
recorded (const vgpu_cgroup_undo_t *undo, unsigned maj, unsigned min)
{
        for (size_t i = 0; i < undo->n_allowed; i++)
                if (undo->allowed[i][0] == maj && undo->allowed[i][1] == min)
                        return true;
        return false;
}

static int
v1_allow (vgpu_cgroup_undo_t *undo, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err)
{
        _cleanup_free_ char *list = NULL;
        int r;

        r = vgpu_read_file_at (undo->dir_fd, "devices.list", PROC_MAX, &list, NULL);
        if (r == -ENOENT)
                list = strdup ("");
        else if (r < 0)
                return vgpu_error_sys (err, r, "device cgroup %s: devices.list", undo->path);
        if (!list)
                return vgpu_error_sys (err, ENOMEM, "device cgroup %s", undo->path);
        for (size_t i = 0; i < n; i++) {
                unsigned maj = nodes[i].major, min = nodes[i].minor;

                if (v1_granted (list, maj, min) || recorded (undo, maj, min))
                        continue;
                if (undo->n_allowed == VGPU_PLAN_MAX_NODES)
                        return vgpu_error_set (err, E2BIG, "device cgroup %s: more than %d rules", undo->path,
                                               VGPU_PLAN_MAX_NODES);
                r = v1_write (undo->dir_fd, "devices.allow", maj, min);
                if (r < 0)
                        return vgpu_error_sys (err, r, "device cgroup %s: allowing c %u:%u rwm", undo->path, maj, min);
                undo->allowed[undo->n_allowed][0] = maj;
                undo->allowed[undo->n_allowed][1] = min;
                undo->n_allowed++;
        }
        return 0;
}

static int
v1_deny (vgpu_cgroup_undo_t *undo, vgpu_error_t *err)
{
        int ret = 0;

        for (size_t i = undo->n_allowed; i-- > 0;) {
                unsigned maj = undo->allowed[i][0], min = undo->allowed[i][1];
                int r = v1_write (undo->dir_fd, "devices.deny", maj, min);

                if (r < 0 && ret == 0)
                        ret = vgpu_error_sys (err, r, "device cgroup %s: denying c %u:%u rwm again", undo->path, maj,
                                              min);
        }
        return ret;
}

/* Which hierarchy and which cgroup in it; *ret_v2 tells which. */
static int
locate (pid_t pid, const char *cgroup_root, vgpu_cgroup_mount_t *m, char *path, bool *ret_v2, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL, *mountinfo = NULL;
        _cleanup_free_ vgpu_cgroup_proc_t *proc = malloc (sizeof *proc); /* 8 KiB: not on the stack */
        char file[64];
        struct stat st;
        int r;

        if (!proc)
                return vgpu_error_sys (err, ENOMEM, "cgroups of pid %ld", (long) pid);
        snprintf (file, sizeof file, "/proc/%ld/cgroup", (long) pid);
        r = vgpu_read_file_at (AT_FDCWD, file, PROC_MAX, &text, NULL);
        if (r < 0)
                return vgpu_error_sys (err, r, "cgroups of container pid %ld", (long) pid);
        r = vgpu_cgroup_parse_proc (text, proc, err);
        if (r < 0)
                return vgpu_error_prefix (err, "container pid %ld", (long) pid);
        if (cgroup_root) {
                char v1[PATH_MAX];

                if (snprintf (v1, sizeof v1, "%s/devices", cgroup_root) >= (int) sizeof v1)
                        return vgpu_error_set (err, ENAMETOOLONG, "cgroup root %s: path too long", cgroup_root);
                *ret_v2 = !(proc->devices[0] && stat (v1, &st) == 0 && S_ISDIR (st.st_mode));
                snprintf (m->point, sizeof m->point, "%s", *ret_v2 ? cgroup_root : v1);
                strcpy (m->root, "/");
        } else {
                r = vgpu_read_file_at (AT_FDCWD, "/proc/self/mountinfo", PROC_MAX, &mountinfo, NULL);
                if (r < 0)
                        return vgpu_error_sys (err, r, "reading /proc/self/mountinfo");
                *ret_v2 = !(proc->devices[0] && vgpu_cgroup_find_mount (mountinfo, false, m, err) == 0);
                if (*ret_v2 && vgpu_cgroup_find_mount (mountinfo, true, m, err) < 0)
                        return vgpu_error_set (err, ENOENT,
                                               "container pid %ld: neither a cgroup v1 devices hierarchy nor a cgroup2 "
                                               "mount is visible",
                                               (long) pid);
        }
        if (!(*ret_v2 ? proc->unified : proc->devices)[0])
                return vgpu_error_set (err, ENOENT, "container pid %ld is in no cgroup2 cgroup", (long) pid);
        strcpy (path, *ret_v2 ? proc->unified : proc->devices);
        return 0;
}

int
vgpu_cgroup_allow (pid_t pid, const char *cgroup_root, const vgpu_node_t *nodes, size_t n, vgpu_cgroup_undo_t *undo,
                   vgpu_error_t *err)
{
        vgpu_cgroup_mount_t m;
        char path[PATH_MAX];
        bool v2 = false;
        int r;

        memset (undo, 0, sizeof *undo);
        undo->dir_fd = -1;
        undo->bpf.cgroup_fd = -1;
        if (n == 0)
                return 0;
        if (pid <= 0)
                return vgpu_error_set (err, EINVAL, "container pid %ld is not valid", (long) pid);
        r = locate (pid, cgroup_root, &m, path, &v2, err);
        if (r < 0)
                return r;
        r = open_cgroup (&m, path, undo, err);
        if (r < 0)
                return r;
        undo->dir_fd = r;
        if (v2) {
                r = vgpu_bpf_allow (undo->dir_fd, nodes, n, &undo->bpf, err);
                if (r < 0)
                        r = vgpu_error_prefix (err, "device cgroup %s", undo->path);
        } else {
                r = v1_allow (undo, nodes, n, err);
                if (r < 0) {
                        vgpu_error_t ignored;

                        v1_deny (undo, &ignored);
                }
        }
        undo->kind = v2 ? VGPU_CGROUP_V2 : VGPU_CGROUP_V1;
        if (r < 0)
                vgpu_cgroup_undo_release (undo);
        return r;
}

int
vgpu_cgroup_undo (vgpu_cgroup_undo_t *undo, vgpu_error_t *err)
{
        int r = 0;

        if (undo->kind == VGPU_CGROUP_V1)
                r = v1_deny (undo, err);
        else if (undo->kind == VGPU_CGROUP_V2 && vgpu_bpf_undo (&undo->bpf, err) < 0)
                r = vgpu_error_prefix (err, "device cgroup %s", undo->path);
        vgpu_cgroup_undo_release (undo);
        return r;
}

void
vgpu_cgroup_undo_release (vgpu_cgroup_undo_t *undo)
{
        vgpu_bpf_undo_release (&undo->bpf);
        vgpu_closep (&undo->dir_fd);
        undo->dir_fd = -1;
        undo->n_allowed = 0;
        undo->kind = VGPU_CGROUP_NONE;
}

int
vgpu_cgroup_deny (pid_t pid, const char *cgroup_root, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err)
{
        vgpu_cgroup_undo_t cg = { .dir_fd = -1, .bpf = { .cgroup_fd = -1 } };
        vgpu_cgroup_mount_t m;
        char path[PATH_MAX];
        bool v2 = false;
        int r;

        if (pid <= 0)
                return vgpu_error_set (err, EINVAL, "container pid %ld is not valid", (long) pid);
        r = locate (pid, cgroup_root, &m, path, &v2, err);
        if (r < 0)
                return r;
        r = open_cgroup (&m, path, &cg, err);
        if (r < 0)
                return r;
        cg.dir_fd = r;
        if (v2 && vgpu_bpf_deny (cg.dir_fd, nodes, n, err) < 0)
                r = vgpu_error_prefix (err, "device cgroup %s", cg.path);
        for (size_t i = 0; !v2 && r >= 0 && i < n; i++) {
                int w = v1_write (cg.dir_fd, "devices.deny", nodes[i].major, nodes[i].minor);

                if (w < 0)
                        r = vgpu_error_sys (err, w, "device cgroup %s: denying c %u:%u rwm", cg.path, nodes[i].major,
                                            nodes[i].minor);
        }
        vgpu_cgroup_undo_release (&cg);
        return r < 0 ? r : 0;
}
