/* engine.c — see engine.h. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

#define DAEMON_JSON_MAX_BYTES (1u << 20)

bool
vgpu_engine_name_valid (const char *name)
{
        size_t n = strlen (name);

        if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
                return false;
        return strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
vgpu_engine_docker_edit (const char *text, size_t len, const char *file, const char *name, const char *binary,
                         char **ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = { { "runtimes", json_type_object, false } };
        _cleanup_json_ json_object *root = NULL;
        json_object *runtimes, *entry;
        char *out;
        int r;

        r = vgpu_json_parse (text, len, file, &root, err);
        if (r == 0)
                r = vgpu_json_check (root, fields, ARRAY_SIZE (fields), file, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex (root, "runtimes", &runtimes)) {
                runtimes = json_object_new_object ();
                json_object_object_add (root, "runtimes", runtimes);
        }
        entry = json_object_new_object ();
        json_object_object_add (entry, "path", json_object_new_string (binary));
        json_object_object_add (runtimes, name, entry);
        if (asprintf (&out, "%s\n",
                      json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return vgpu_error_set (err, ENOMEM, "%s: out of memory", file);
        *ret = out;
        return 0;
}

/* The directory of an absolute file; *ret_base points into file. */
static int
open_parent (const char *file, const char **ret_base, vgpu_error_t *err)
{
        const char *slash = strrchr (file, '/');
        _cleanup_free_ char *dir = NULL;
        int fd;

        if (file[0] != '/' || !slash[1])
                return vgpu_error_set (err, EINVAL, "docker config \"%s\" is not an absolute path of a file", file);
        dir = slash == file ? strdup ("/") : strndup (file, (size_t) (slash - file));
        if (!dir)
                return vgpu_error_set (err, ENOMEM, "%s: out of memory", file);
        fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not O_PATH: fsync after the rename */
        if (fd < 0)
                return vgpu_error_sys (err, errno, "directory of %s", file);
        *ret_base = slash + 1;
        return fd;
}

/* The old text ("{}" when there is no file) and its mode (-1 when none). */
static int
read_old (int dirfd, const char *base, const char *file, char **ret, size_t *ret_len, int *ret_mode, vgpu_error_t *err)
{
        _cleanup_close_ int fd = openat (dirfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        int r;

        *ret_mode = -1;
        if (fd < 0 && errno == ENOENT) {
                *ret = strdup ("{}");
                *ret_len = 2;
                return *ret ? 0 : vgpu_error_set (err, ENOMEM, "%s: out of memory", file);
        }
        if (fd < 0 || fstat (fd, &st) < 0)
                return vgpu_error_sys (err, errno, "docker config %s", file);
        if (!S_ISREG (st.st_mode))
                return vgpu_error_set (err, EINVAL, "docker config %s is not a regular file", file);
        r = vgpu_read_fd (fd, DAEMON_JSON_MAX_BYTES, ret, ret_len);
        if (r < 0)
                return vgpu_error_sys (err, r, "reading docker config %s", file);
        *ret_mode = (int) (st.st_mode & 0777);
        return 0;
}

/* FILE.bak gets the old text (when there was a file), then FILE the new. */
static int
replace (int dirfd, const char *base, const char *file, const char *old, size_t old_len, int mode, const char *text,
         vgpu_error_t *err)
{
        _cleanup_free_ char *backup = NULL;
        int r;

        if (mode >= 0) {
                if (asprintf (&backup, "%s%s", base, VGPU_ENGINE_BACKUP_SUFFIX) < 0)
                        return vgpu_error_set (err, ENOMEM, "%s: out of memory", file);
                r = vgpu_write_file_atomic (dirfd, backup, old, old_len, (mode_t) mode);
                if (r < 0)
                        return vgpu_error_sys (err, r, "keeping the old %s as %s%s", file, file,
                                               VGPU_ENGINE_BACKUP_SUFFIX);
        }
        r = vgpu_write_file_atomic (dirfd, base, text, strlen (text), mode >= 0 ? (mode_t) mode : 0644);
        if (r < 0)
                return vgpu_error_sys (err, r, "writing %s", file);
        return 0;
}

int
vgpu_engine_docker_configure (const char *file, const char *name, const char *binary, bool dry_run, char **ret,
                              bool *ret_backup, vgpu_error_t *err)
{
        _cleanup_free_ char *old = NULL, *out = NULL;
        _cleanup_close_ int dirfd = -1;
        const char *base = NULL;
        size_t len = 0;
        int mode = -1, r;

        *ret_backup = false;
        dirfd = open_parent (file, &base, err);
        if (dirfd < 0)
                return dirfd;
        r = read_old (dirfd, base, file, &old, &len, &mode, err);
        if (r == 0)
                r = vgpu_engine_docker_edit (old, len, file, name, binary, &out, err);
        if (r == 0 && !dry_run)
                r = replace (dirfd, base, file, old, len, mode, out, err);
        if (r < 0)
                return r;
        *ret_backup = !dry_run && mode >= 0;
        *ret = TAKE_PTR (out);
        return 0;
}

int
vgpu_engine_containerd_snippet (const char *name, const char *binary, char **ret, vgpu_error_t *err)
{
        static const char table[] = "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes";

        if (asprintf (ret,
                      "# containerd 1.6: add to /etc/containerd/config.toml (version = 2) and restart containerd.\n"
                      "[%s.%s]\n"
                      "  runtime_type = \"io.containerd.runc.v2\"\n"
                      "[%s.%s.options]\n"
                      "  BinaryName = \"%s\"\n"
                      "  # SystemdCgroup = true  # as in the runc handler's options (the kubelet's cgroup driver)\n"
                      "\n"
                      "# Kubernetes: kubectl apply -f this part; a pod asks with runtimeClassName: %s\n"
                      "apiVersion: node.k8s.io/v1\n"
                      "kind: RuntimeClass\n"
                      "metadata:\n"
                      "  name: %s\n"
                      "handler: %s\n",
                      table, name, table, name, binary, name, name, name) < 0)
                return vgpu_error_set (err, ENOMEM, "containerd snippet: out of memory");
        return 0;
}

int
vgpu_engine_self_path (char ret[PATH_MAX], vgpu_error_t *err)
{
        if (!realpath ("/proc/self/exe", ret))
                return vgpu_error_sys (err, errno, "the path of this program (/proc/self/exe)");
        return 0;
}
