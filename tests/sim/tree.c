/* vgpu-sim: the in-memory sysfs tree.
 *
 * Directories, attributes and symlinks. Children are kept in kernfs order
 * (by kernfs_name_hash, then name), which is the order readdir() returns on
 * a real sysfs: tools such as mdevctl print types in readdir order, so this
 * is what makes their output match a real host byte for byte. Symlink
 * targets are computed from the two nodes' positions when the link is
 * made, so every "../" count is right by construction, however deep a
 * parent device sits. Allocation failure
 * aborts: the simulator is a test tool and a half-built tree would only
 * produce confusing test failures later. */

#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct node root = { .ino = 1, .name = (char *) "", .kind = NODE_DIR };
static unsigned long long last_ino = 1; /* 1 is FUSE_ROOT_ID */

static void *
xcalloc (size_t n, size_t size)
{
        void *p = calloc (n, size);

        if (p == NULL)
                abort ();
        return p;
}

static char *
xstrdup (const char *s)
{
        char *p = strdup (s);

        if (p == NULL)
                abort ();
        return p;
}

struct node *
tree_root (void)
{
        return &root;
}

struct node *
node_child (struct node *dir, const char *name)
{
        struct node *n;

        if (dir == NULL || dir->kind != NODE_DIR)
                return NULL;
        for (n = dir->child; n != NULL; n = n->next)
                if (strcmp (n->name, name) == 0)
                        return n;
        return NULL;
}

static struct node *
find_ino (struct node *n, unsigned long long ino)
{
        for (; n != NULL; n = n->next) {
                struct node *hit = n->ino == ino ? n : find_ino (n->child, ino);

                if (hit != NULL)
                        return hit;
        }
        return NULL;
}

/* A walk of the whole tree: a few thousand nodes at most, and inode
 * numbers of removed nodes must simply not be found, which a walk gives
 * without any bookkeeping. */
struct node *
node_by_ino (unsigned long long ino)
{
        return ino == root.ino ? &root : find_ino (root.child, ino);
}

/* fs/kernfs/dir.c:kernfs_name_hash with no namespace, on a 64-bit kernel
 * (partial_name_hash, then hash_long (, 32) with GOLDEN_RATIO_64). Checked
 * against the readdir order of this host's /sys. */
static unsigned
kernfs_hash (const char *name)
{
        unsigned long long h = 0;
        unsigned hash;

        for (; *name != '\0'; name++) {
                unsigned long long c = (unsigned char) *name;

                h = (h + (c << 4) + (c >> 4)) * 11;
        }
        hash = (unsigned) ((h * 0x61C8864680B583EBull) >> 32) & 0x7fffffffU;
        if (hash < 2)
                hash += 2;
        if (hash >= 0x7fffffffU)
                hash = 0x7fffffffU - 1;
        return hash;
}

static bool
kernfs_before (const char *a, const char *b)
{
        unsigned ha = kernfs_hash (a), hb = kernfs_hash (b);

        return ha != hb ? ha < hb : strcmp (a, b) < 0;
}

static struct node *
node_new (struct node *dir, const char *name, enum node_kind kind)
{
        struct node *n = xcalloc (1, sizeof *n);
        struct node **pos = &dir->child;

        n->ino = ++last_ino;
        n->name = xstrdup (name);
        n->kind = kind;
        n->parent = dir;
        while (*pos != NULL && kernfs_before ((*pos)->name, name))
                pos = &(*pos)->next;
        n->next = *pos;
        *pos = n;
        return n;
}

struct node *
node_mkdir (struct node *dir, const char *name)
{
        struct node *n = node_child (dir, name);

        return n != NULL ? n : node_new (dir, name, NODE_DIR);
}

struct node *
node_mkdir_p (const char *path)
{
        struct node *cur = &root;
        char *copy = xstrdup (path), *save = NULL, *comp;

        for (comp = strtok_r (copy, "/", &save); comp != NULL; comp = strtok_r (NULL, "/", &save))
                cur = node_mkdir (cur, comp);
        free (copy);
        return cur;
}

struct node *
node_add_text (struct node *dir, const char *name, const char *fmt, ...)
{
        struct node *n = node_new (dir, name, NODE_ATTR);
        va_list ap;

        va_start (ap, fmt);
        if (vasprintf (&n->text, fmt, ap) < 0)
                abort ();
        va_end (ap);
        return n;
}

struct node *
node_add_attr (struct node *dir, const char *name, const struct attr_ops *ops, void *ctx)
{
        struct node *n = node_new (dir, name, NODE_ATTR);

        n->ops = ops;
        n->ctx = ctx;
        return n;
}

static unsigned
node_depth (const struct node *n)
{
        unsigned d = 0;

        for (; n->parent != NULL; n = n->parent)
                d++;
        return d;
}

/* Appends the names from `top` (exclusive) down to `n` to buf. */
static void
append_path_below (char *buf, size_t size, const struct node *top, const struct node *n)
{
        if (n == top)
                return;
        append_path_below (buf, size, top, n->parent);
        if (n->parent != top)
                strncat (buf, "/", size - strlen (buf) - 1);
        strncat (buf, n->name, size - strlen (buf) - 1);
}

struct node *
node_add_link (struct node *dir, const char *name, struct node *target)
{
        const struct node *a = dir, *b = target;
        unsigned da = node_depth (a), db = node_depth (b), ups;
        char buf[1024] = "";
        struct node *n;

        while (db > da) {
                b = b->parent;
                db--;
        }
        while (da > db) {
                a = a->parent;
                da--;
        }
        while (a != b) {
                a = a->parent;
                b = b->parent;
        }
        for (ups = node_depth (dir) - node_depth (a); ups > 0; ups--)
                strcat (buf, "../");
        append_path_below (buf, sizeof buf, a, target);
        if (buf[0] != '\0' && buf[strlen (buf) - 1] == '/')
                buf[strlen (buf) - 1] = '\0';
        n = node_new (dir, name, NODE_LINK);
        n->text = xstrdup (buf);
        return n;
}

static void
node_free (struct node *n)
{
        while (n->child != NULL) {
                struct node *c = n->child;

                n->child = c->next;
                node_free (c);
        }
        free (n->name);
        free (n->text);
        free (n);
}

void
node_remove (struct node *node)
{
        struct node **p;

        if (node == NULL || node == &root)
                return;
        for (p = &node->parent->child; *p != NULL; p = &(*p)->next)
                if (*p == node) {
                        *p = node->next;
                        break;
                }
        node_free (node);
}

void
node_remove_child (struct node *dir, const char *name)
{
        node_remove (node_child (dir, name));
}

/* sysfs modes: dirs 0755, links 0777, attributes by what they support
 * unless their ops say (sriov_numvfs is 0664). */
mode_t
node_mode (const struct node *node)
{
        if (node->kind == NODE_DIR)
                return 0755;
        if (node->kind == NODE_LINK)
                return 0777;
        if (node->ops == NULL)
                return 0444;
        if (node->ops->mode != 0)
                return node->ops->mode;
        if (node->ops->show != NULL && node->ops->store != NULL)
                return 0644;
        return node->ops->store != NULL ? 0200 : 0444;
}

void
tree_free (void)
{
        while (root.child != NULL)
                node_remove (root.child);
}
