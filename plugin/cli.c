/* cli.c — see cli.h. */
#include "cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int
vgpu_cli_usage_error (const char *prog, const char *what, const char *arg)
{
        fprintf (stderr, "%s: %s \"%.64s\" (see `%s --help`)\n", prog, what, arg, prog);
        return 2;
}

int
vgpu_cli_number (const char *prog, const char *name, const char *arg, unsigned long long max, unsigned long long *ret)
{
        if (vgpu_parse_uint (arg, max, ret) < 0 || *ret == 0) {
                fprintf (stderr, "%s: --%s \"%.64s\" is not a number between 1 and %llu\n", prog, name, arg, max);
                return 2;
        }
        return 0;
}

static const char *
opt_name (const vgpu_cli_t *cli, int val)
{
        for (size_t i = 0; cli->options[i].name; i++)
                if (cli->options[i].val == val)
                        return cli->options[i].name;
        return "?";
}

static bool
command_takes (const vgpu_cli_command_t *c, const char *name)
{
        size_t len = strlen (name);

        for (const char *p = c->opts; (p = strstr (p, name)); p += len)
                if ((p == c->opts || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
                        return true;
        return false;
}

/* The options before the command (cmd NULL) or the command's own. */
static int
parse_options (const vgpu_cli_t *cli, int argc, char **argv, const vgpu_cli_command_t *cmd, void *o, vgpu_error_t *err)
{
        int c;

        opterr = 0;
        while ((c = getopt_long (argc, argv, cmd ? "h" : "+h", cli->options, NULL)) != -1) {
                int r;

                if (c == 'h') {
                        cli->help (stdout, cmd);
                        exit (0);
                }
                if (c == cli->version_opt && !cmd) {
                        printf ("%s %s\n", cli->prog, VGPU_VERSION);
                        exit (0);
                }
                if (c == '?' || c == ':')
                        return vgpu_cli_usage_error (cli->prog, "unknown option or missing value in", argv[optind - 1]);
                if (c >= cli->first_command_opt && c != cli->version_opt &&
                    (!cmd || !command_takes (cmd, opt_name (cli, c)))) {
                        char flag[64];

                        snprintf (flag, sizeof flag, "--%s", opt_name (cli, c));
                        return vgpu_cli_usage_error (
                                cli->prog,
                                cmd ? "option not valid for this command:" : "option before the command:", flag);
                }
                r = cli->take (o, c, optarg, err);
                if (r == 2 && err->code) {
                        vgpu_error_print (cli->prog, err);
                        return 2;
                }
                if (r)
                        return r;
        }
        return 0;
}

int
vgpu_cli_parse (const vgpu_cli_t *cli, int argc, char **argv, void *o, const vgpu_cli_command_t **ret_command,
                vgpu_error_t *err)
{
        const vgpu_cli_command_t *cmd = NULL;
        int r;

        r = parse_options (cli, argc, argv, NULL, o, err);
        if (r)
                return r;
        if (optind >= argc) {
                cli->help (stderr, NULL);
                return 2;
        }
        for (size_t i = 0; i < cli->n_commands; i++)
                if (strcmp (argv[optind], cli->commands[i].name) == 0)
                        cmd = &cli->commands[i];
        if (!cmd)
                return vgpu_cli_usage_error (cli->prog, "unknown command", argv[optind]);
        argv += optind;
        argc -= optind;
        optind = 1;
        r = parse_options (cli, argc, argv, cmd, o, err);
        if (r)
                return r;
        if (optind < argc)
                return vgpu_cli_usage_error (cli->prog, "unexpected argument", argv[optind]);
        *ret_command = cmd;
        return 0;
}
