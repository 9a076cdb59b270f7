/* cli.h — the command-line frame vgpuctl and vgpu-cdi share.
 *
 * A table of commands, each naming the long options it takes; one
 * getopt_long pass for the options before the command and one for the
 * command's own; --help and --version; a usage error is one line on stderr
 * and exit code 2.  The binaries keep their option tables and what each
 * option means (the take callback). */
#pragma once

#include <getopt.h>
#include <stdio.h>

#include "error.h"

typedef struct vgpu_cli_command {
        const char *name;
        const char *usage; /* options after the command name */
        const char *help;
        const char *opts; /* long options this command takes, space-separated */
        int (*run) (void *o, vgpu_error_t *err);
} vgpu_cli_command_t;

typedef struct vgpu_cli {
        const char *prog;
        const struct option *options;
        int first_command_opt; /* option values from here up belong to commands */
        int version_opt;
        const vgpu_cli_command_t *commands;
        size_t n_commands;
        void (*help) (FILE *out, const vgpu_cli_command_t *command); /* NULL command: the program's */
        /* One option into o: 0, or 2 for a usage error (printed, or left in err). */
        int (*take) (void *o, int opt, const char *arg, vgpu_error_t *err);
} vgpu_cli_t;

/* "prog: what "arg" (see `prog --help`)"; returns 2. */
int vgpu_cli_usage_error (const char *prog, const char *what, const char *arg);

/* A count from 1 to max, or a usage error naming --name; 0 or 2. */
int vgpu_cli_number (const char *prog, const char *name, const char *arg, unsigned long long max,
                     unsigned long long *ret);

/* The whole command line: 0 with *ret_command, or the exit code to return
 * (--help and --version print and exit 0 here). */
int vgpu_cli_parse (const vgpu_cli_t *cli, int argc, char **argv, void *o, const vgpu_cli_command_t **ret_command,
                    vgpu_error_t *err);
