/* vgpu-sim: the FUSE side (libfuse3 low-level API, multi-threaded loop).
 *
 * Every request takes sim.lock, finds its node by inode number afresh and
 * answers the way kernfs would: nothing cached (timeouts 0, direct I/O), a
 * write handed whole to the attribute's store, EACCES when opening an
 * attribute for an access it does not support. A blocked remove waits on
 * sim.cond with the lock released while the loop serves everything else.
 *
 * The low-level API is used for one reason: the open reply must carry
 * FOPEN_PARALLEL_DIRECT_WRITES. Without it the kernel's FUSE client holds
 * the inode lock through a write, so a second `remove` write to a device
 * whose first remove is blocked would hang, where kernfs returns at once. */
#define FUSE_USE_VERSION 312
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 128 /* blocked removes each hold a worker */

static struct timespec start_time;
static struct fuse_session *session;

/* Called with sim.lock held. */
static void
fill_stat (const struct node *n, struct stat *st)
{
        memset (st, 0, sizeof *st);
        st->st_ino = n->ino;
        st->st_mode = node_mode (n) | (n->kind == NODE_DIR ? S_IFDIR : n->kind == NODE_LINK ? S_IFLNK : S_IFREG);
        st->st_nlink = n->kind == NODE_DIR ? 2 : 1;
        st->st_size = n->kind == NODE_ATTR ? SIM_ATTR_SIZE : n->kind == NODE_LINK ? (off_t) strlen (n->text) : 0;
        st->st_blksize = 4096;
        st->st_atim = st->st_mtim = st->st_ctim = start_time;
}

static void
sim_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
        struct fuse_entry_param e = { 0 };
        struct node *n;

        pthread_mutex_lock (&sim.lock);
        n = node_child (node_by_ino (parent), name);
        if (n != NULL) {
                e.ino = n->ino;
                fill_stat (n, &e.attr);
        }
        pthread_mutex_unlock (&sim.lock);
        if (n == NULL)
                fuse_reply_err (req, ENOENT);
        else
                fuse_reply_entry (req, &e); /* timeouts 0: sysfs changes under the caller */
}

static void
sim_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct stat st;
        struct node *n;
        (void) fi;

        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n != NULL)
                fill_stat (n, &st);
        pthread_mutex_unlock (&sim.lock);
        if (n == NULL)
                fuse_reply_err (req, ENOENT);
        else
                fuse_reply_attr (req, &st, 0);
}

/* `echo > attr` opens with O_TRUNC, and sysfs ignores the size change;
 * other changes are ignored too, the attributes keep their sysfs modes. */
static void
sim_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
        (void) attr;
        (void) to_set;
        sim_getattr (req, ino, fi);
}

static void
sim_readlink (fuse_req_t req, fuse_ino_t ino)
{
        char target[1024] = "";
        struct node *n;
        int err = 0;

        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n == NULL)
                err = ENOENT;
        else if (n->kind != NODE_LINK)
                err = EINVAL;
        else
                snprintf (target, sizeof target, "%s", n->text);
        pthread_mutex_unlock (&sim.lock);
        if (err != 0)
                fuse_reply_err (req, err);
        else
                fuse_reply_readlink (req, target);
}

/* Entry i of a listing has offset i + 1; ".", ".." come first like sysfs. */
static size_t
add_entry (fuse_req_t req, char *buf, size_t size, size_t used, const char *name, const struct node *n, off_t next)
{
        struct stat st = { .st_ino = n->ino, .st_mode = n->kind == NODE_DIR ? S_IFDIR : S_IFREG };
        size_t len = fuse_add_direntry (req, buf + used, size - used, name, &st, next);

        return len > size - used ? 0 : len;
}

static void
sim_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
        char buf[65536];
        size_t used = 0, len = 1;
        struct node *n, *c;
        off_t i = 0;
        (void) fi;

        if (size > sizeof buf)
                size = sizeof buf;
        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n == NULL || n->kind != NODE_DIR) {
                pthread_mutex_unlock (&sim.lock);
                fuse_reply_err (req, n == NULL ? ENOENT : ENOTDIR);
                return;
        }
        if (i++ >= off)
                used += add_entry (req, buf, size, used, ".", n, i);
        if (i++ >= off)
                used += add_entry (req, buf, size, used, "..", n->parent != NULL ? n->parent : n, i);
        for (c = n->child; c != NULL && len > 0; c = c->next)
                if (i++ >= off) {
                        len = add_entry (req, buf, size, used, c->name, c, i);
                        used += len;
                }
        pthread_mutex_unlock (&sim.lock);
        fuse_reply_buf (req, buf, used);
}

/* kernfs_fop_open: even root gets EACCES reading a write-only attribute or
 * writing a read-only one. */
static void
sim_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct fuse_open_out out = { .open_flags = FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES };
        int acc = fi->flags & O_ACCMODE, err = 0;
        struct node *n;

        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n == NULL)
                err = ENOENT;
        else if (n->kind != NODE_ATTR)
                err = EISDIR;
        else if (acc != O_WRONLY && n->ops != NULL && n->ops->show == NULL)
                err = EACCES;
        else if (acc != O_RDONLY && (n->ops == NULL || n->ops->store == NULL))
                err = EACCES;
        pthread_mutex_unlock (&sim.lock);
        if (err != 0)
                fuse_reply_err (req, err);
        else
                fuse_reply_buf (req, (const char *) &out, sizeof out); /* fuse_reply_open cannot set the flag */
}

static void
sim_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
        char page[SIM_ATTR_SIZE];
        size_t len = 0;
        struct node *n;
        (void) fi;

        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n != NULL && n->kind == NODE_ATTR) {
                if (n->ops != NULL)
                        len = n->ops->show (n->ctx, page);
                else
                        len = (size_t) snprintf (page, sizeof page, "%s", n->text);
        }
        pthread_mutex_unlock (&sim.lock);
        if (n == NULL) {
                fuse_reply_err (req, ENODEV); /* kernfs: the attribute went away under an open fd */
                return;
        }
        if (len > sizeof page - 1)
                len = sizeof page - 1;
        if (off < 0 || (size_t) off >= len)
                size = 0;
        else if (size > len - (size_t) off)
                size = len - (size_t) off;
        fuse_reply_buf (req, page + (size > 0 ? off : 0), size);
}

static void
sleep_ms (unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* A sysfs store sees the whole write (at most a page) whatever the offset.
 * Injected delays are slept without the lock, then the node is looked up
 * again since the device may be gone by then. */
static void
sim_write (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
        unsigned delay = 0;
        struct node *n;
        ssize_t r = 0;
        (void) off;
        (void) fi;

        if (size > SIM_ATTR_SIZE)
                size = SIM_ATTR_SIZE;
        pthread_mutex_lock (&sim.lock);
        n = node_by_ino (ino);
        if (n != NULL && n->ops != NULL && size > 0)
                delay = control_delay_ms (n->ops->delay);
        if (delay > 0) {
                pthread_mutex_unlock (&sim.lock);
                sleep_ms (delay);
                pthread_mutex_lock (&sim.lock);
                n = node_by_ino (ino);
        }
        if (n == NULL)
                r = -ENODEV;
        else if (n->kind != NODE_ATTR || n->ops == NULL || n->ops->store == NULL)
                r = -EACCES;
        else if (size > 0) /* sysfs_kf_write: an empty write does nothing */
                r = n->ops->store (n->ctx, buf, size);
        pthread_mutex_unlock (&sim.lock);
        if (r < 0)
                fuse_reply_err (req, (int) -r);
        else
                fuse_reply_write (req, (size_t) r);
}

/* sysfs has no create: a new name in a sysfs dir is EACCES, even for root. */
static void
sim_create (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
        (void) parent;
        (void) name;
        (void) mode;
        (void) fi;
        fuse_reply_err (req, EACCES);
}

static void
sim_mknod (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
        (void) rdev;
        sim_create (req, parent, name, mode, NULL);
}

static void
sim_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
        (void) parent;
        (void) name;
        (void) mode;
        fuse_reply_err (req, EPERM);
}

static void
sim_unlink (fuse_req_t req, fuse_ino_t parent, const char *name)
{
        sim_mkdir (req, parent, name, 0);
}

/* Inode numbers are never reused and nodes are found by walking the tree,
 * so there is no lookup count to keep. */
static void
sim_forget (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
        (void) ino;
        (void) nlookup;
        fuse_reply_none (req);
}

static const struct fuse_lowlevel_ops ops = {
        .lookup = sim_lookup,
        .forget = sim_forget,
        .getattr = sim_getattr,
        .setattr = sim_setattr,
        .readlink = sim_readlink,
        .readdir = sim_readdir,
        .open = sim_open,
        .read = sim_read,
        .write = sim_write,
        .create = sim_create,
        .mknod = sim_mknod,
        .mkdir = sim_mkdir,
        .unlink = sim_unlink,
        .rmdir = sim_unlink,
};

/* Blocked removes poll sim.stopping, so a SIGTERM ends them and the loop;
 * fuse_session_exit only sets a flag, which is safe here. */
static void
on_signal (int sig)
{
        (void) sig;
        sim.stopping = 1;
        if (session != NULL)
                fuse_session_exit (session);
}

static int
install_signals (void)
{
        struct sigaction sa = { .sa_handler = on_signal };
        int sigs[] = { SIGTERM, SIGINT, SIGHUP };

        sigemptyset (&sa.sa_mask);
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                if (sigaction (sigs[i], &sa, NULL) < 0)
                        return -errno;
        signal (SIGPIPE, SIG_IGN);
        return 0;
}

static int
write_pidfile (const char *pidfile)
{
        FILE *f = fopen (pidfile, "we");

        if (f == NULL)
                return -errno;
        fprintf (f, "%ld\n", (long) getpid ());
        return fclose (f) == 0 ? 0 : -errno;
}

static int
serve (const char *pidfile, bool foreground)
{
        struct fuse_loop_config *cfg;
        int r = install_signals ();

        if (r == 0 && fuse_daemonize (foreground) != 0)
                r = -EIO;
        if (r == 0 && pidfile != NULL)
                r = write_pidfile (pidfile);
        if (r < 0)
                return r;
        cfg = fuse_loop_cfg_create ();
        if (cfg == NULL)
                return -ENOMEM;
        fuse_loop_cfg_set_max_threads (cfg, MAX_THREADS);
        r = fuse_session_loop_mt (session, cfg);
        fuse_loop_cfg_destroy (cfg);
        return r == 0 || sim.stopping ? 0 : -EIO;
}

int
sim_fuse_main (int argc, char **argv, const char *mountpoint, bool foreground, const char *pidfile)
{
        struct fuse_args args = FUSE_ARGS_INIT (argc, argv);
        struct fuse_session *se;
        int r;

        clock_gettime (CLOCK_REALTIME, &start_time);
        se = fuse_session_new (&args, &ops, sizeof ops, NULL);
        fuse_opt_free_args (&args);
        if (se == NULL)
                return -EINVAL;
        if (fuse_session_mount (se, mountpoint) != 0) {
                fuse_session_destroy (se);
                return -EIO;
        }
        session = se;
        r = serve (pidfile, foreground);
        sim.stopping = 1;
        session = NULL;
        fuse_session_unmount (se);
        fuse_session_destroy (se);
        return r;
}
