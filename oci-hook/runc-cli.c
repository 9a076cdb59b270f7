/* runc-cli.c — see runc-cli.h. */
#include "runc-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "util.h"

/* Options that take a value: runc 1.1's global ones and crun 1.8's
 * (--log-level, --cgroup-manager); go-runc writes --rootless=BOOL, so runc's
 * string form is the one to follow. */
static const char *const global_values[] = {
        "log", "log-format", "log-level", "root", "criu", "rootless", "cgroup-manager",
};

/* create's and run's: runc's, and crun's --config/-f. */
static const char *const create_values[] = {
        "bundle", "b", "console-socket", "pid-file", "preserve-fds", "config", "f",
};

typedef struct option_word {
        char name[32];     /* without dashes and value; "" when too long to be one we know */
        const char *value; /* after "=", or NULL */
} option_word_t;

static void
split_option (const char *word, option_word_t *o)
{
        const char *s = word + (word[1] == '-' ? 2 : 1);
        size_t n = strcspn (s, "=");

        o->value = s[n] == '=' ? s + n + 1 : NULL;
        if (n >= sizeof o->name)
                n = 0;
        memcpy (o->name, s, n);
        o->name[n] = '\0';
}

static bool
listed (const char *name, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp (name, names[i]) == 0)
                        return true;
        return false;
}

static bool
is_option (const char *word)
{
        return word[0] == '-' && word[1] != '\0';
}

/* The option at argv[*i]: its value (the rest after "=" or the next word)
 * when it takes one; *i moves past what it used. */
static const char *
take_option (int argc, char *const *argv, int *i, const char *const *values, size_t n, option_word_t *o)
{
        split_option (argv[*i], o);
        (*i)++;
        if (o->value || !listed (o->name, values, n))
                return o->value;
        if (*i < argc)
                return argv[(*i)++];
        return NULL;
}

static void
take_global (const option_word_t *o, const char *value, vgpu_runc_cmdline_t *c)
{
        if (strcmp (o->name, "version") == 0 || strcmp (o->name, "v") == 0)
                c->version = true;
        else if (strcmp (o->name, "log") == 0)
                c->log = value;
        else if (strcmp (o->name, "log-format") == 0)
                c->log_json = value && strcmp (value, "json") == 0;
}

static void
take_create (const option_word_t *o, const char *value, vgpu_runc_cmdline_t *c)
{
        if (strcmp (o->name, "bundle") == 0 || strcmp (o->name, "b") == 0)
                c->bundle = value;
        else if (strcmp (o->name, "config") == 0 || strcmp (o->name, "f") == 0)
                c->config = value;
}

void
vgpu_runc_cmdline_parse (int argc, char *const *argv, vgpu_runc_cmdline_t *ret)
{
        vgpu_runc_cmdline_t c = { 0 };
        option_word_t o;
        int i = 0;

        while (i < argc) {
                if (strcmp (argv[i], "--") == 0) {
                        i++;
                        c.command = i < argc ? argv[i++] : NULL;
                        break;
                }
                if (!is_option (argv[i])) {
                        c.command = argv[i++];
                        break;
                }
                take_global (&o, take_option (argc, argv, &i, global_values, ARRAY_SIZE (global_values), &o), &c);
        }
        while (vgpu_runc_cmdline_creates (&c) && i < argc) {
                if (strcmp (argv[i], "--") == 0) {
                        if (!c.id && i + 1 < argc)
                                c.id = argv[i + 1];
                        break;
                }
                if (!is_option (argv[i])) {
                        if (!c.id)
                                c.id = argv[i];
                        i++;
                        continue;
                }
                take_create (&o, take_option (argc, argv, &i, create_values, ARRAY_SIZE (create_values), &o), &c);
        }
        *ret = c;
}

bool
vgpu_runc_cmdline_creates (const vgpu_runc_cmdline_t *c)
{
        return c->command && (strcmp (c->command, "create") == 0 || strcmp (c->command, "run") == 0);
}

/* logrus' text form of a value: quoted, with Go's escapes for what breaks
 * a line. */
static void
quote_text (FILE *f, const char *s)
{
        fputc ('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        fprintf (f, "\\%c", ch);
                else if (ch == '\n')
                        fputs ("\\n", f);
                else if (ch < 0x20 || ch == 0x7f)
                        fprintf (f, "\\x%02x", ch);
                else
                        fputc (ch, f);
        }
        fputc ('"', f);
}

char *
vgpu_runc_log_line (const vgpu_runc_cmdline_t *c, const char *level, const char *msg)
{
        char when[64], *line = NULL;
        size_t size = 0;
        struct timespec ts;
        struct tm tm;
        FILE *f;

        /* RFC 3339 with nanoseconds, as runc writes it: containerd decodes
         * "time" into a Go time.Time and drops the whole log on a bad one. */
        clock_gettime (CLOCK_REALTIME, &ts);
        gmtime_r (&ts.tv_sec, &tm);
        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf (when + strlen (when), sizeof when - strlen (when), ".%09ldZ", ts.tv_nsec);
        f = open_memstream (&line, &size);
        if (!f)
                return NULL;
        if (c->log_json) {
                _cleanup_json_ json_object *o = json_object_new_object ();

                json_object_object_add (o, "level", json_object_new_string (level));
                json_object_object_add (o, "msg", json_object_new_string (msg));
                json_object_object_add (o, "time", json_object_new_string (when));
                fprintf (f, "%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
        } else {
                fprintf (f, "time=\"%s\" level=%s msg=", when, level);
                quote_text (f, msg);
                fputc ('\n', f);
        }
        if (fclose (f) != 0) {
                free (line);
                return NULL;
        }
        return line;
}
