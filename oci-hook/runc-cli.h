/* runc-cli.h — what vgpu-runtime reads of runc's command line.
 *
 * Engines run an OCI runtime as `runc [GLOBAL OPTIONS] COMMAND [OPTIONS] ID`
 * (dockerd through containerd-shim-runc-v2: `--root R --log F --log-format
 * json create --bundle B --pid-file P ID`).  The shim needs the command, and
 * for create and run the bundle, the container id and where runc logs; the
 * words themselves go to the real runtime unchanged.  Options are taken as
 * Go's flag package and crun's argp take them: one or two dashes, the value
 * after "=" or in the next word for the options listed in runc-cli.c (runc
 * 1.1's and crun 1.8's), every other option a switch. */
#pragma once

#include <stdbool.h>

#include "error.h"

typedef struct vgpu_runc_cmdline {
        const char *command; /* "create", "run", "exec", ...; NULL when there is none (--version) */
        const char *id;      /* create/run: the container id, NULL when missing */
        const char *bundle;  /* create/run: --bundle, NULL for the working directory */
        const char *config;  /* create/run: crun's --config, NULL for config.json */
        const char *log;     /* --log, NULL when absent */
        bool log_json;       /* --log-format json */
        bool version;        /* --version or -v before the command */
} vgpu_runc_cmdline_t;

/* Read argv[0 .. argc) (the runtime's arguments, without the program name).
 * Never fails on words it does not know: the real runtime judges them. */
void vgpu_runc_cmdline_parse (int argc, char *const *argv, vgpu_runc_cmdline_t *ret);

/* The command creates a container (create, run). */
bool vgpu_runc_cmdline_creates (const vgpu_runc_cmdline_t *c);

/* One line for the file --log names, as runc writes it: a JSON object
 * {"level","msg","time"} when log_json (containerd reads the last "error"
 * line and dockerd shows its msg), else logrus' text format.  level is
 * "error" or "warning"; msg is the whole sentence.  Returns a malloc'd,
 * newline-terminated line, or NULL on ENOMEM. */
char *vgpu_runc_log_line (const vgpu_runc_cmdline_t *c, const char *level, const char *msg);
