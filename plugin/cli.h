/* cli.h — the command-line frame every binary shares.
 *
 * A table of commands, each naming the long options it takes; the options
 * every command of a program takes (its globals) and the frame's own —
 * the three roots (roots.h), --no-sandbox, --help, --version — are accepted
 * before and after the command; a command's own options only after it.  A
 * program may run a default command when none is named (vgpu-hook without a
 * stage, as hooks.d calls it).  One getopt_long pass for the options before
 * the command and one for the rest; a usage error is one line on stderr and
 * exit code 2.  The binaries keep their option tables and what each option
 * means (the take callback); the frame's options and their help are defined
 * here once. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "roots.h"

typedef struct vgpu_cli_command {
        const char *name;
        const char *usage;                       /* options after the command name */
        const char *help;                        /* first line: the summary in the command list */
        const char *opts;                        /* long options this command takes, space-separated */
        const char *opts_help;                   /* help lines of those options, or NULL */
        int (*run) (void *o, vgpu_error_t *err); /* NULL when the program dispatches by name */
} vgpu_cli_command_t;

/* What the frame's own options set. */
typedef struct vgpu_cli_common {
        vgpu_roots_t roots; /* defaults and the environment first, then the flags */
        bool no_sandbox;
} vgpu_cli_common_t;

typedef struct vgpu_cli {
        const char *prog;
        const char *usage;            /* after "Usage: PROG ", e.g. "[OPTIONS] COMMAND [ARGS]" */
        const char *summary;          /* what the program does, one paragraph */
        const char *command_word;     /* "command" or "stage", for messages */
        const struct option *options; /* the program's own, without the frame's */
        const char *globals;          /* of those, the ones every command takes, space-separated */
        const char *globals_help;     /* their help lines */
        const vgpu_cli_command_t *commands;
        size_t n_commands;
        const vgpu_cli_command_t *default_command; /* when none is named; NULL: a command is required */
        /* One option into o: 0, or 2 for a usage error (printed, or left in err). */
        int (*take) (void *o, int opt, const char *arg, vgpu_error_t *err);
        /* The arguments after the command that are no options (vgpuctl sriov
         * enable PF N), all of them, also none, for a command that takes
         * such: 0, or 2 for a usage error it printed.  NULL: every such
         * argument is a usage error. */
        int (*take_args) (void *o, const vgpu_cli_command_t *command, int argc, char **argv);
} vgpu_cli_t;

/* Values of the program's own options start here. */
#define VGPU_CLI_FIRST_OPT 256

/* "prog: what "arg" (see `prog --help`)", arg quoted; returns 2. */
int vgpu_cli_usage_error (const char *prog, const char *what, const char *arg);

/* "prog: --name "arg"what" (what starts with its own " is not ..." or ": ..."),
 * the value quoted to stay on one line; returns 2. */
int vgpu_cli_bad_value (const char *prog, const char *name, const char *arg, const char *what);

/* A count from 1 to max, or a usage error naming --name; 0 or 2. */
int vgpu_cli_number (const char *prog, const char *name, const char *arg, unsigned long long max,
                     unsigned long long *ret);

/* The whole command line into o (the program's options) and common (the
 * frame's, initialised here from the environment): 0 with *ret_command, or
 * the exit code to return (--help and --version print and exit 0 here; a
 * bad root in the environment is a usage error, 2). */
int vgpu_cli_parse (const vgpu_cli_t *cli, int argc, char **argv, void *o, vgpu_cli_common_t *common,
                    const vgpu_cli_command_t **ret_command, vgpu_error_t *err);

/* The help the frame prints for --help: the program's (command NULL) or a
 * command's. */
void vgpu_cli_help (const vgpu_cli_t *cli, FILE *out, const vgpu_cli_command_t *command);
