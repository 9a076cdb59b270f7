/* shim-edit.c — see shim-edit.h. */
#include "shim-edit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "hook.h"
#include "json.h"
#include "oci.h"
#include "release.h"
#include "util.h"

#define CONFIG_NAME "config.json"

static const char *const hook_stages[] = { "createRuntime", "poststop" };

typedef struct config_file {
        int dirfd; /* the bundle */
        char *text;
        size_t len;
        mode_t mode;
} config_file_t;

static void
config_file_done (config_file_t *f)
{
        vgpu_closep (&f->dirfd);
        free (f->text);
}

/* <bundle>/config.json: a regular file (a FIFO must not hang the shim). */
static int
read_config (const char *bundle, config_file_t *f, vgpu_error_t *err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        f->dirfd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not O_PATH: fsync after the rename */
        if (f->dirfd < 0)
                return vgpu_error_sys (err, errno, "bundle %s", bundle);
        fd = openat (f->dirfd, CONFIG_NAME, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 || fstat (fd, &st) < 0)
                return vgpu_error_sys (err, errno, CONFIG_NAME " in bundle %s", bundle);
        if (!S_ISREG (st.st_mode))
                return vgpu_error_set (err, EINVAL, CONFIG_NAME " in bundle %s is not a regular file", bundle);
        r = vgpu_read_fd (fd, VGPU_JSON_MAX_BYTES, &f->text, &f->len);
        if (r == -EFBIG)
                return vgpu_error_set (err, EFBIG, CONFIG_NAME " in bundle %s is larger than %u bytes", bundle,
                                       VGPU_JSON_MAX_BYTES);
        if (r < 0)
                return vgpu_error_sys (err, r, "reading " CONFIG_NAME " in bundle %s", bundle);
        f->mode = st.st_mode & 07777;
        return 0;
}

static json_object *
hook_entry (const vgpu_shim_config_t *c, const char *stage)
{
        const char *argv[3 + 2 * VGPU_N_ROOTS];
        json_object *h = json_object_new_object (), *args = json_object_new_array ();
        size_t n = 0;

        argv[n++] = "vgpu-hook";
        n += vgpu_roots_args (&c->roots, argv + n);
        if (c->accept_env)
                argv[n++] = "--accept-env";
        argv[n++] = stage;
        for (size_t i = 0; i < n; i++)
                json_object_array_add (args, json_object_new_string (argv[i]));
        json_object_object_add (h, "path", json_object_new_string (c->hook));
        json_object_object_add (h, "args", args);
        json_object_object_add (h, "timeout", json_object_new_int (VGPU_SHIM_HOOK_TIMEOUT));
        return h;
}

int
vgpu_shim_add_hooks (json_object *config, const vgpu_shim_config_t *c, vgpu_error_t *err)
{
        json_object *hooks, *list;

        if (!json_object_object_get_ex (config, "hooks", &hooks)) {
                hooks = json_object_new_object ();
                json_object_object_add (config, "hooks", hooks);
        }
        if (!json_object_is_type (hooks, json_type_object))
                return vgpu_error_set (err, EINVAL, CONFIG_NAME " \"hooks\" is not a JSON object");
        for (size_t i = 0; i < ARRAY_SIZE (hook_stages); i++)
                if (json_object_object_get_ex (hooks, hook_stages[i], &list) &&
                    !json_object_is_type (list, json_type_array))
                        return vgpu_error_set (err, EINVAL, CONFIG_NAME " hooks.%s is not a JSON array",
                                               hook_stages[i]);
        for (size_t i = 0; i < ARRAY_SIZE (hook_stages); i++) {
                if (!json_object_object_get_ex (hooks, hook_stages[i], &list)) {
                        list = json_object_new_array ();
                        json_object_object_add (hooks, hook_stages[i], list);
                }
                json_object_array_add (list, hook_entry (c, hook_stages[i]));
        }
        return 0;
}

/* precreate takes the container id from linux.cgroupsPath, where engines
 * put it last (/docker/ID, /default/ID, ...:cri-containerd:ID); the hooks
 * added here know it from the runtime's state.  When the two would differ
 * (a hand-made bundle), precreate is shown a cgroupsPath in systemd's
 * slice:prefix:name form, whose name it takes verbatim (a path's last part
 * loses an engine prefix or ".scope"), and the container keeps its own:
 * *ret_saved holds it (NULL when there was none), *ret_swapped says whether
 * it was swapped. */
static int
show_id (json_object *config, const char *id, json_object **ret_saved, bool *ret_swapped, vgpu_error_t *err)
{
        char found[VGPU_CONTAINER_ID_MAX + 1], path[VGPU_CONTAINER_ID_MAX + 32];
        json_object *linux_, *v;

        *ret_saved = NULL;
        *ret_swapped = false;
        if (!vgpu_container_id_valid (id) ||
            (vgpu_oci_config_container_id (config, found, sizeof found, NULL) == 0 && strcmp (found, id) == 0))
                return 0;
        if (!json_object_object_get_ex (config, "linux", &linux_)) {
                linux_ = json_object_new_object ();
                json_object_object_add (config, "linux", linux_);
        }
        if (!json_object_is_type (linux_, json_type_object))
                return vgpu_error_set (err, EINVAL, CONFIG_NAME " \"linux\" is not a JSON object");
        if (json_object_object_get_ex (linux_, "cgroupsPath", &v))
                *ret_saved = json_object_get (v);
        snprintf (path, sizeof path, "vgpu-runtime:shim:%s", id);
        json_object_object_add (linux_, "cgroupsPath", json_object_new_string (path));
        *ret_swapped = true;
        return 0;
}

static void
restore_id (json_object *config, json_object *saved)
{
        json_object *linux_;

        if (!json_object_object_get_ex (config, "linux", &linux_) || !json_object_is_type (linux_, json_type_object))
                return;
        if (saved)
                json_object_object_add (linux_, "cgroupsPath", json_object_get (saved));
        else
                json_object_object_del (linux_, "cgroupsPath");
}

/* The poststop stage for container id, on a state made up for it. */
static int
release_id (const vgpu_shim_job_t *job, const char *id, vgpu_error_t *err)
{
        const vgpu_hook_opts_t opts = { .roots = &job->config->roots,
                                        .stage = VGPU_STAGE_POSTSTOP,
                                        .release_timeout_ms = VGPU_RELEASE_TIMEOUT_MS };
        _cleanup_json_ json_object *state = json_object_new_object ();
        const char *text;

        json_object_object_add (state, "ociVersion", json_object_new_string ("1.0.2"));
        json_object_object_add (state, "id", json_object_new_string (id));
        json_object_object_add (state, "status", json_object_new_string ("stopped"));
        json_object_object_add (state, "bundle", json_object_new_string (job->bundle));
        text = json_object_to_json_string_ext (state, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return vgpu_hook_run (&opts, text, strlen (text), NULL, NULL, err);
}

/* precreate (hook.h) on text into *ret_out; *ret_used the container id it
 * allocated for ("" when the container asks for nothing). */
static int
precreate (const vgpu_shim_job_t *job, const char *text, size_t len, char **ret_out, size_t *ret_len,
           char ret_used[VGPU_CONTAINER_ID_MAX + 1], vgpu_error_t *err)
{
        const vgpu_hook_opts_t opts = { .roots = &job->config->roots,
                                        .stage = VGPU_STAGE_PRECREATE,
                                        .accept_env = job->config->accept_env,
                                        .release_timeout_ms = VGPU_RELEASE_TIMEOUT_MS };
        FILE *f = open_memstream (ret_out, ret_len);
        int r;

        if (!f)
                return vgpu_error_sys (err, errno, "precreate output");
        r = vgpu_hook_run (&opts, text, len, f, ret_used, err);
        if (fclose (f) != 0 && r == 0)
                r = vgpu_error_sys (err, ENOMEM, "precreate output");
        return r;
}

/* precreate on the config, then the hooks: *ret the edited config, or NULL
 * when the container asks for nothing (precreate hands the text back as it
 * was). */
static int
edit (const vgpu_shim_job_t *job, const char *text, size_t len, json_object **ret, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL, *saved = NULL, *edited = NULL;
        _cleanup_free_ char *out = NULL;
        char used[VGPU_CONTAINER_ID_MAX + 1];
        size_t out_len = 0;
        bool swapped;
        int r;

        *ret = NULL;
        r = vgpu_oci_config_parse (text, len, &config, err);
        if (r == 0)
                r = show_id (config, job->id, &saved, &swapped, err);
        if (r < 0)
                return r;
        if (swapped) {
                text = vgpu_oci_config_to_string (config);
                len = strlen (text);
        }
        r = precreate (job, text, len, &out, &out_len, used, err);
        if (r < 0 || (out_len == len && memcmp (out, text, len) == 0))
                return r;
        if (strcmp (used, job->id) != 0) {
                release_id (job, used, NULL);
                return vgpu_error_set (err, EINVAL, "container id \"%.64s\" is not one a vGPU can be given to",
                                       job->id);
        }
        r = vgpu_oci_config_parse (out, out_len, &edited, err);
        if (r == 0 && swapped)
                restore_id (edited, saved);
        if (r == 0)
                r = vgpu_shim_add_hooks (edited, job->config, err);
        if (r < 0) {
                release_id (job, used, NULL);
                return r;
        }
        *ret = TAKE_PTR (edited);
        return 0;
}

int
vgpu_shim_prepare (const vgpu_shim_job_t *job, bool *ret_edited, vgpu_error_t *err)
{
        _cleanup_ (config_file_done) config_file_t f = { .dirfd = -1 };
        _cleanup_json_ json_object *edited = NULL;
        const char *text;
        int r;

        *ret_edited = false;
        r = read_config (job->bundle, &f, err);
        if (r == 0)
                r = edit (job, f.text, f.len, &edited, err);
        if (r < 0 || !edited)
                return r;
        text = vgpu_oci_config_to_string (edited);
        r = vgpu_write_file_atomic (f.dirfd, CONFIG_NAME, text, strlen (text), f.mode);
        if (r < 0) {
                vgpu_error_sys (err, r, "writing " CONFIG_NAME " in bundle %s", job->bundle);
                release_id (job, job->id, NULL);
                return r;
        }
        *ret_edited = true;
        return 0;
}

int
vgpu_shim_release (const vgpu_shim_job_t *job, vgpu_error_t *err)
{
        return release_id (job, job->id, err);
}
