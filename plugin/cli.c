/* cli.c — see cli.h. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "util.h"

/* The frame's options: the roots, then these; the program's come after. */
enum {
        OPT_ROOT = 200, /* + index into vgpu_root_infos */
        OPT_NO_SANDBOX = OPT_ROOT + VGPU_N_ROOTS,
        OPT_VERSION,
};

#define MAX_OPTIONS 64

static const char frame_help[] = "  --no-sandbox          debugging only: keep every privilege (README, Privileges)\n"
                                 "  -h, --help            show this help\n";

int
vgpu_cli_usage_error (const char *prog, const char *what, const char *arg)
{
        char q[VGPU_QUOTE_BUF];

        fprintf (stderr, "%s: %s \"%s\" (see `%s --help`)\n", prog, what, vgpu_quote (arg, strlen (arg), q), prog);
        return 2;
}

int
vgpu_cli_bad_value (const char *prog, const char *name, const char *arg, const char *what)
{
        char q[VGPU_QUOTE_BUF];

        fprintf (stderr, "%s: --%s \"%s\"%s\n", prog, name, vgpu_quote (arg, strlen (arg), q), what);
        return 2;
}

int
vgpu_cli_number (const char *prog, const char *name, const char *arg, unsigned long long max, unsigned long long *ret)
{
        char what[64];

        if (vgpu_parse_uint (arg, max, ret) < 0 || *ret == 0) {
                snprintf (what, sizeof what, " is not a number between 1 and %llu", max);
                return vgpu_cli_bad_value (prog, name, arg, what);
        }
        return 0;
}

/* The frame's options followed by the program's, in out[MAX_OPTIONS]. */
static void
all_options (const vgpu_cli_t *cli, struct option *out)
{
        size_t n = 0;

        for (size_t i = 0; i < VGPU_N_ROOTS; i++)
                out[n++] = (struct option) { vgpu_root_infos[i].flag + 2, required_argument, NULL, OPT_ROOT + (int) i };
        out[n++] = (struct option) { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX };
        out[n++] = (struct option) { "help", no_argument, NULL, 'h' };
        out[n++] = (struct option) { "version", no_argument, NULL, OPT_VERSION };
        for (size_t i = 0; cli->options[i].name && n + 1 < MAX_OPTIONS; i++)
                out[n++] = cli->options[i];
        out[n] = (struct option) { 0 };
}

static const char *
opt_name (const struct option *opts, int val)
{
        for (size_t i = 0; opts[i].name; i++)
                if (opts[i].val == val)
                        return opts[i].name;
        return "?";
}

static bool
listed (const char *list, const char *name)
{
        size_t len = strlen (name);

        for (const char *p = list; p && (p = strstr (p, name)); p += len)
                if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
                        return true;
        return false;
}

void
vgpu_cli_help (const vgpu_cli_t *cli, FILE *out, const vgpu_cli_command_t *c)
{
        if (c)
                fprintf (out, "Usage: %s [OPTIONS] %s %s\n\n%s\n\nOptions:\n%s", cli->prog, c->name, c->usage, c->help,
                         c->opts_help ? c->opts_help : "");
        else {
                fprintf (out, "Usage: %s %s\n\n%s\n", cli->prog, cli->usage, cli->summary);
                if (cli->n_commands)
                        fprintf (out, "\n%c%ss:\n", cli->command_word[0] - 'a' + 'A', cli->command_word + 1);
                for (size_t i = 0; i < cli->n_commands; i++)
                        fprintf (out, "  %-14s %.*s\n", cli->commands[i].name,
                                 (int) strcspn (cli->commands[i].help, "\n"), cli->commands[i].help);
                fprintf (out, "\nOptions:\n");
        }
        fputs (cli->globals_help ? cli->globals_help : "", out);
        for (size_t i = 0; i < VGPU_N_ROOTS; i++) {
                char flag[32];

                snprintf (flag, sizeof flag, "%s DIR", vgpu_root_infos[i].flag);
                fprintf (out, "  %-21s %s (env %s, default %s)\n", flag, vgpu_root_infos[i].what,
                         vgpu_root_infos[i].env, vgpu_root_infos[i].def);
        }
        fputs (frame_help, out);
        if (!c)
                fprintf (out, "  --version             print the version\n");
        if (!c && cli->n_commands) /* a daemon has none */
                fprintf (out, "\n`%s %s --help` shows a %s's options.\n", cli->prog,
                         cli->command_word[0] == 's' ? "STAGE" : "COMMAND", cli->command_word);
}

/* One option of the frame or the program. */
static int
take (const vgpu_cli_t *cli, int c, const char *arg, void *o, vgpu_cli_common_t *common, vgpu_error_t *err)
{
        int r;

        if (c >= OPT_ROOT && c < OPT_ROOT + VGPU_N_ROOTS) {
                r = vgpu_roots_set (&common->roots, vgpu_root_infos[c - OPT_ROOT].which, arg, err);
                if (r < 0)
                        vgpu_error_print (cli->prog, err);
                return r < 0 ? 2 : 0;
        }
        if (c == OPT_NO_SANDBOX) {
                common->no_sandbox = true;
                return 0;
        }
        r = cli->take (o, c, arg, err);
        if (r == 2 && err->code)
                vgpu_error_print (cli->prog, err);
        return r;
}

/* The options before the command (cmd NULL) or after it. */
static int
parse_options (const vgpu_cli_t *cli, const struct option *opts, int argc, char **argv, const vgpu_cli_command_t *cmd,
               void *o, vgpu_cli_common_t *common, vgpu_error_t *err)
{
        int c;

        opterr = 0;
        while ((c = getopt_long (argc, argv, cmd ? "h" : "+h", opts, NULL)) != -1) {
                const char *name = opt_name (opts, c);
                int r;

                if (c == 'h') {
                        vgpu_cli_help (cli, stdout, cmd);
                        exit (0);
                }
                if (c == OPT_VERSION) {
                        printf ("%s %s\n", cli->prog, VGPU_VERSION);
                        exit (0);
                }
                if (c == '?' || c == ':')
                        return vgpu_cli_usage_error (cli->prog, "unknown option or missing value in", argv[optind - 1]);
                if (c >= VGPU_CLI_FIRST_OPT && !listed (cli->globals, name) && (!cmd || !listed (cmd->opts, name))) {
                        char flag[64];

                        snprintf (flag, sizeof flag, "--%s", name);
                        return vgpu_cli_usage_error (
                                cli->prog,
                                cmd ? "option not valid for this command:" : "option before the command:", flag);
                }
                r = take (cli, c, optarg, o, common, err);
                if (r)
                        return r;
        }
        return 0;
}

static const vgpu_cli_command_t *
find_command (const vgpu_cli_t *cli, const char *name)
{
        for (size_t i = 0; i < cli->n_commands; i++)
                if (strcmp (name, cli->commands[i].name) == 0)
                        return &cli->commands[i];
        return NULL;
}

int
vgpu_cli_parse (const vgpu_cli_t *cli, int argc, char **argv, void *o, vgpu_cli_common_t *common,
                const vgpu_cli_command_t **ret_command, vgpu_error_t *err)
{
        struct option opts[MAX_OPTIONS];
        const vgpu_cli_command_t *cmd;
        char what[64];
        int r;

        if (vgpu_roots_init (&common->roots, err) < 0) {
                vgpu_error_print (cli->prog, err);
                return 2;
        }
        all_options (cli, opts);
        r = parse_options (cli, opts, argc, argv, NULL, o, common, err);
        if (r)
                return r;
        if (optind >= argc && !cli->default_command) {
                vgpu_cli_help (cli, stderr, NULL);
                return 2;
        }
        cmd = optind < argc ? find_command (cli, argv[optind]) : cli->default_command;
        if (!cmd) {
                snprintf (what, sizeof what, "unknown %s", cli->command_word);
                return vgpu_cli_usage_error (cli->prog, what, argv[optind]);
        }
        if (optind < argc) {
                argv += optind;
                argc -= optind;
                optind = 1;
                r = parse_options (cli, opts, argc, argv, cmd, o, common, err);
                if (r)
                        return r;
                if (optind < argc && !cli->take_args)
                        return vgpu_cli_usage_error (cli->prog, "unexpected argument", argv[optind]);
                if (cli->take_args && (r = cli->take_args (o, cmd, argc - optind, argv + optind)))
                        return r;
        }
        *ret_command = cmd;
        return 0;
}
