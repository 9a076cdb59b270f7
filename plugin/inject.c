/* inject.c — see inject.h.
 *
 * No helper process and no setns: the container's rootfs is reached through
 * /proc/PID/root, which resolves in the container's mount namespace (its
 * /dev tmpfs included) from this process, and the umask is cleared only
 * while the nodes are made, so modes land as asked.
 *
 * Paths are container paths below /dev, checked before anything is touched
 * and resolved one prefix at a time from an O_PATH fd of the rootfs with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS); on
 * kernels without openat2 a walk with O_NOFOLLOW per component does the same.
 * No symlink is followed at all: a /dev or /dev/vfio that is a link is an
 * error, not something to create nodes through. */
#include "inject.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "json.h"
#include "util.h"

typedef struct ctx {
        const char *rootfs;
        int rootfd;
        vgpu_inject_undo_t *undo;
} ctx_t;

/* "/dev/vfio/12": absolute, below /dev, no empty, "." or ".." component. */
static int
check_path (const char *path, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        size_t len = strnlen (path, 64);
        const char *c = path + 1;

        if (len == 64 || strncmp (path, "/dev/", 5) != 0 || path[len - 1] == '/')
                return vgpu_error_set (err, EINVAL, "device node path %s: not a file path below /dev/",
                                       vgpu_quote (path, strlen (path), q));
        while (*c) {
                size_t l = strcspn (c, "/");

                if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return vgpu_error_set (err, EINVAL, "device node path %s: empty, . or .. component", path);
                c += l + (c[l] == '/');
        }
        return 0;
}

static int
walk_nofollow (int rootfd, const char *rel)
{
        _cleanup_close_ int fd = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
        char buf[PATH_MAX], *save = NULL;

        if (fd < 0)
                return -errno;
        if ((size_t) snprintf (buf, sizeof buf, "%s", rel) >= sizeof buf)
                return -ENAMETOOLONG;
        for (char *comp = strtok_r (buf, "/", &save); comp; comp = strtok_r (NULL, "/", &save)) {
                int next = openat (fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;

                if (next < 0) {
                        if (errno == ENOTDIR && fstatat (fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISLNK (st.st_mode))
                                return -ELOOP;
                        return -errno;
                }
                close (fd);
                fd = next;
        }
        return TAKE_FD (fd);
}

/* Open directory rel ("dev/vfio") below the rootfs fd, following no symlink. */
static int
open_in_root (int rootfd, const char *rel)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall (SYS_openat2, rootfd, rel, &how, sizeof how);

        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;
        return walk_nofollow (rootfd, rel);
}

static int
dir_error (const ctx_t *c, const char *rel, int r, vgpu_error_t *err)
{
        if (r == -ELOOP)
                return vgpu_error_set (err, ELOOP, "directory /%s under rootfs %s is a symlink: refusing to follow it",
                                       rel, c->rootfs);
        return vgpu_error_sys (err, r, "directory /%s under rootfs %s", rel, c->rootfs);
}

static int
record (ctx_t *c, const char *rel, bool is_dir, dev_t rdev, vgpu_error_t *err)
{
        vgpu_inject_undo_t *u = c->undo;
        size_t len = strlen (rel);

        if (u->n == VGPU_INJECT_MAX_CREATED)
                return vgpu_error_set (err, E2BIG, "more than %d nodes and directories to create under rootfs %s",
                                       VGPU_INJECT_MAX_CREATED, c->rootfs);
        if (len + 2 > sizeof u->created[u->n])
                return vgpu_error_set (err, ENAMETOOLONG, "path /%s under rootfs %s is too long", rel, c->rootfs);
        u->created[u->n][0] = '/';
        memcpy (u->created[u->n] + 1, rel, len + 1);
        u->is_dir[u->n] = is_dir;
        u->rdev[u->n] = rdev;
        u->n++;
        return 0;
}

/* Open directory rel below the rootfs, making the missing parts 0755. */
static int
ensure_dir (ctx_t *c, const char *rel, vgpu_error_t *err)
{
        _cleanup_close_ int parent = fcntl (c->rootfd, F_DUPFD_CLOEXEC, 3);
        char prefix[64];
        size_t len = strlen (rel);

        if (parent < 0)
                return vgpu_error_sys (err, errno, "rootfs %s", c->rootfs);
        for (size_t end = 0; end <= len; end++) {
                const char *comp;
                int fd, r;

                if (rel[end] != '/' && rel[end] != '\0')
                        continue;
                memcpy (prefix, rel, end);
                prefix[end] = '\0';
                comp = strrchr (prefix, '/');
                comp = comp ? comp + 1 : prefix;
                fd = open_in_root (c->rootfd, prefix);
                if (fd == -ENOENT) {
                        if (mkdirat (parent, comp, 0755) == 0) {
                                r = record (c, prefix, true, 0, err);
                                if (r < 0)
                                        return r;
                        } else if (errno != EEXIST) {
                                return vgpu_error_sys (err, errno, "creating directory /%s under rootfs %s", prefix,
                                                       c->rootfs);
                        }
                        fd = open_in_root (c->rootfd, prefix);
                }
                if (fd < 0)
                        return dir_error (c, prefix, fd, err);
                close (parent);
                parent = fd;
        }
        return TAKE_FD (parent);
}

static int
check_node (const ctx_t *c, int dirfd, const char *base, const vgpu_node_t *node, vgpu_error_t *err)
{
        struct stat st;

        if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return vgpu_error_sys (err, errno, "device node %s under rootfs %s", node->path, c->rootfs);
        if (!S_ISCHR (st.st_mode))
                return vgpu_error_set (err, EEXIST,
                                       "device node %s under rootfs %s exists but is not a char device (mode 0%o), "
                                       "expected char %u:%u",
                                       node->path, c->rootfs, (unsigned) st.st_mode, node->major, node->minor);
        if (st.st_rdev != makedev (node->major, node->minor))
                return vgpu_error_set (err, EEXIST, "device node %s under rootfs %s is char %u:%u, expected char %u:%u",
                                       node->path, c->rootfs, major (st.st_rdev), minor (st.st_rdev), node->major,
                                       node->minor);
        return 0;
}

static int
make_node (ctx_t *c, const vgpu_node_t *node, vgpu_error_t *err)
{
        char dir[64];
        const char *base;
        _cleanup_close_ int dirfd = -1;
        dev_t rdev = makedev (node->major, node->minor);
        int r;

        snprintf (dir, sizeof dir, "%s", node->path + 1);
        *strrchr (dir, '/') = '\0';
        base = strrchr (node->path, '/') + 1;
        dirfd = ensure_dir (c, dir, err);
        if (dirfd < 0)
                return dirfd;
        if (mknodat (dirfd, base, S_IFCHR | (node->mode & 0777), rdev) < 0) {
                if (errno != EEXIST)
                        return vgpu_error_sys (err, errno, "creating device node %s (char %u:%u) under rootfs %s",
                                               node->path, node->major, node->minor, c->rootfs);
                return check_node (c, dirfd, base, node, err); /* there before us: never ours to remove */
        }
        r = check_node (c, dirfd, base, node, err);
        if (r < 0) {
                unlinkat (dirfd, base, 0);
                return r;
        }
        return record (c, node->path + 1, false, rdev, err);
}

/* The container's rootfs as an O_PATH fd.  With a pid, rootfs is resolved in
 * that process's root (/proc/PID/root, as the container's mount namespace
 * sees it: at createRuntime, before pivot_root, that is the namespace's copy
 * of the host's tree with the runtime's mounts on it), absolute symlinks and
 * ".." kept inside it; pid 0 resolves it in the caller's own. */
static int
open_rootfs (pid_t pid, const char *rootfs, vgpu_error_t *err)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int root = -1;
        const char *rel = rootfs + strspn (rootfs, "/");
        char proc[64];
        int fd;

        if (pid < 0)
                return vgpu_error_set (err, EINVAL, "container pid %ld is not valid", (long) pid);
        if (rootfs[0] != '/')
                return vgpu_error_set (err, EINVAL, "rootfs %s is not an absolute path", rootfs);
        if (pid == 0) {
                fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                return fd < 0 ? vgpu_error_sys (err, errno, "rootfs %s", rootfs) : fd;
        }
        snprintf (proc, sizeof proc, "/proc/%ld/root", (long) pid);
        root = open (proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return vgpu_error_sys (err, errno, "root of container pid %ld (%s)", (long) pid, proc);
        if (!*rel)
                return TAKE_FD (root);
        fd = (int) syscall (SYS_openat2, root, rel, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS) {
                fd = walk_nofollow (root, rel); /* before Linux 5.6: no symlink in the path then */
                if (fd < 0)
                        errno = -fd;
        }
        if (fd < 0)
                return vgpu_error_sys (err, errno, "rootfs %s in the mount namespace of pid %ld", rootfs, (long) pid);
        return fd;
}

/* Open the directory holding container path `path`; *ret_base is its last
 * component. */
static int
open_parent (int rootfd, const char *path, const char **ret_base)
{
        char dir[64];
        char *slash;

        snprintf (dir, sizeof dir, "%s", path + 1);
        slash = strrchr (dir, '/');
        *ret_base = strrchr (path, '/') + 1;
        if (!slash) {
                int fd = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);

                return fd < 0 ? -errno : fd;
        }
        *slash = '\0';
        return open_in_root (rootfd, dir);
}

/* Remove one recorded entry if it is still what we made. */
static int
remove_one (const ctx_t *c, const char *path, bool is_dir, dev_t rdev)
{
        const char *base;
        _cleanup_close_ int dirfd = open_parent (c->rootfd, path, &base);
        struct stat st;

        if (dirfd == -ENOENT)
                return 0;
        if (dirfd < 0)
                return dirfd;
        if (is_dir) {
                if (unlinkat (dirfd, base, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != ENOTEMPTY &&
                    errno != EEXIST)
                        return -errno;
                return 0;
        }
        if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISCHR (st.st_mode) || st.st_rdev != rdev)
                return 0;
        if (unlinkat (dirfd, base, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int
remove_all (const ctx_t *c, const vgpu_inject_undo_t *undo, vgpu_error_t *err)
{
        int ret = 0;

        for (size_t i = undo->n; i-- > 0;) {
                int r = remove_one (c, undo->created[i], undo->is_dir[i], undo->rdev[i]);

                if (r < 0 && ret == 0)
                        ret = vgpu_error_sys (err, r, "removing %s under rootfs %s", undo->created[i], c->rootfs);
        }
        return ret;
}

/* Create the nodes below rootfd; on failure what this made goes again. */
static int
inject_all (ctx_t *c, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = make_node (c, &nodes[i], err);

                if (r < 0) {
                        vgpu_error_t ignored;

                        remove_all (c, c->undo, &ignored);
                        c->undo->n = 0;
                        return r;
                }
        }
        return 0;
}

int
vgpu_inject_nodes (pid_t pid, const char *rootfs, const vgpu_node_t *nodes, size_t n, vgpu_inject_undo_t *undo,
                   vgpu_error_t *err)
{
        ctx_t c = { .rootfs = rootfs, .rootfd = -1, .undo = undo };
        mode_t mask;
        int r;

        undo->n = 0;
        for (size_t i = 0; i < n; i++) {
                r = check_path (nodes[i].path, err);
                if (r < 0)
                        return r;
        }
        c.rootfd = open_rootfs (pid, rootfs, err);
        if (c.rootfd < 0)
                return c.rootfd;
        mask = umask (0); /* modes land as asked */
        r = inject_all (&c, nodes, n, err);
        umask (mask);
        close (c.rootfd);
        return r;
}

int
vgpu_inject_undo (pid_t pid, const char *rootfs, const vgpu_inject_undo_t *undo, vgpu_error_t *err)
{
        ctx_t c = { .rootfs = rootfs, .rootfd = -1 };
        int r;

        if (undo->n == 0)
                return 0;
        c.rootfd = open_rootfs (pid, rootfs, err);
        if (c.rootfd < 0)
                return c.rootfd;
        r = remove_all (&c, undo, err);
        close (c.rootfd);
        return r;
}

int
vgpu_inject_remove (pid_t pid, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err)
{
        char proc[64];
        ctx_t c = { .rootfs = proc };
        int ret = 0;

        snprintf (proc, sizeof proc, "/proc/%ld/root", (long) pid);
        if (pid <= 0)
                return vgpu_error_set (err, EINVAL, "container pid %ld is not valid", (long) pid);
        for (size_t i = 0; i < n; i++) {
                int r = check_path (nodes[i].path, err);

                if (r < 0)
                        return r;
        }
        c.rootfd = open (proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c.rootfd < 0)
                return vgpu_error_sys (err, errno, "root of container pid %ld (%s)", (long) pid, proc);
        for (size_t i = 0; i < n; i++) {
                int r = remove_one (&c, nodes[i].path, false, makedev (nodes[i].major, nodes[i].minor));

                if (r < 0 && ret == 0)
                        ret = vgpu_error_sys (err, r, "removing device node %s of container pid %ld", nodes[i].path,
                                              (long) pid);
        }
        close (c.rootfd);
        return ret;
}
