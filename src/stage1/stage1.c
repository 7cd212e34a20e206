/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include <libmount.h>

#include "bind-setup.h"
#include "caps.h"
#include "copy-tree.h"
#include "fileio.h"
#include "log.h"
#include "mount-setup.h"
#include "name.h"
#include "paths.h"
#include "pod-config.h"
#include "pod-env.h"
#include "pod-init.h"
#include "signal-util.h"
#include "stage1-bus.h"
#include "stage1-protocol.h"
#include "stage1.h"
#include "strv.h"
#include "uid-shift.h"

/* The pod's init needs little: it makes syscalls and formats short messages. */
#define POD_INIT_STACK_SIZE (256 * 1024)

/* What stage1 works out for each app of the pod. */
typedef struct Stage1App {
        char *dir;             /* "" or "apps/NAME/", see pod_app_dir() */
        char *rootfs;          /* its root on the host: POD_DIR/DIR/rootfs */
        char *root;            /* where the init mounts it, see PodInitApp */
        char *image;           /* its image's tree on the host */
        char **environment;
        char *overlay_options;
        ExitInfo exit;
        bool exited;
        bool shifted;          /* rootfs/ is the app's own copy, shifted: see stage1_shift_app() */
} Stage1App;

typedef struct Stage1 {
        const char *name;
        char *pod_dir;
        int pod_dir_fd;
        PodConfig config;
        Stage1App *apps;       /* config.n_apps of them */
        PodInitApp *init_apps;

        /* Detached copies of the binds' sources, for the init; closed once it reported READY. */
        int bind_fds[BIND_MOUNTS_MAX];
        struct stat bind_st[BIND_MOUNTS_MAX]; /* of each source, as opened at this start */
        size_t n_bind_fds;
        PodInitBind init_binds[BIND_MOUNTS_MAX];

        int stdio_fds[STAGE1_STDIO_FDS];
        size_t n_stdio_fds;

        pid_t pid;           /* the pod's init, as seen on the host; 0 once reaped */
        int init_status;     /* its wait status, once reaped */
        int socket;
        int signal_fd;
        bool go;             /* GO was sent: stop signals are forwarded to the apps */
        int cancel_signal;   /* a stop signal received before that */
        size_t n_exited;
        ssize_t deciding_app;     /* the app whose end ended the pod, by the exit policy; or -1 */
        ssize_t first_failed_app; /* the first app that failed before that; or -1 */

        uint64_t start_usec; /* CLOCK_MONOTONIC */
        ExitInfo exit_info;
} Stage1;

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static void close_many(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

static void stage1_done(Stage1 *s) {
        free(s->pod_dir);
        safe_close(s->pod_dir_fd);
        for (size_t i = 0; s->apps && i < s->config.n_apps; i++) {
                Stage1App *a = s->apps + i;

                free(a->dir);
                free(a->rootfs);
                free(a->root);
                free(a->image);
                strv_free(a->environment);
                free(a->overlay_options);
                exit_info_done(&a->exit);
        }
        free(s->apps);
        free(s->init_apps);
        close_many(s->bind_fds, s->n_bind_fds);
        pod_config_done(&s->config);
        for (size_t i = 0; i < s->n_stdio_fds; i++)
                safe_close(s->stdio_fds[i]);
        safe_close(s->socket);
        safe_close(s->signal_fd);
        exit_info_done(&s->exit_info);
}

/* The app never ran: log why, once, and record it for exit.json. */
_printf_(3, 4) static int stage1_fail(Stage1 *s, int error, const char *format, ...) {
        char *message = NULL;
        va_list ap;
        int r;

        error = error < 0 ? -error : error;
        if (error == 0)
                error = EIO;

        errno = error;
        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0) {
                message = NULL;
                log_oom();
        } else
                log_error("%s", message);

        exit_info_done(&s->exit_info);
        s->exit_info = (ExitInfo) {
                .code = EXIT_CODE_START_FAILED,
                .status = error,
                .message = message,
        };
        return -error;
}

static int stage1_prepare_app(Stage1 *s, size_t i) {
        const PodApp *c = s->config.apps + i;
        Stage1App *a = s->apps + i;
        bool userns = s->config.uid_shift != UID_INVALID;
        int r;

        r = pod_app_dir(&s->config, i, &a->dir);
        if (r < 0)
                return stage1_fail(s, r, "Out of memory.");

        r = pod_env_build(c->environment, s->name, getenv("TERM"), &a->environment);
        if (r < 0)
                return stage1_fail(s, r, "Failed to build the environment of app '%s' of pod '%s': %m", c->name, s->name);

        if (asprintf(&a->rootfs, "%s/%s" POD_ROOTFS_DIR, s->pod_dir, a->dir) < 0 ||
            asprintf(&a->image, PODCTL_IMAGES_DIR "/%s", c->image) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");

        /* With a user namespace the init resolves relative paths from the pod's directory,
         * which only the host's root may enter (see init_enter_userns()). */
        if (s->config.n_apps > 1)
                r = asprintf(&a->root, POD_INIT_ROOT "/" POD_INIT_APPS_DIR "/%s", c->name);
        else if (userns)
                r = asprintf(&a->root, "%s" POD_ROOTFS_DIR, a->dir);
        else
                r = asprintf(&a->root, "%s", a->rootfs);
        if (r < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");

        if (s->config.storage == STORAGE_OVERLAY) {
                _cleanup_free_ char *upper = NULL, *work = NULL;

                /* The one failure overlayfs would describe only as ENOENT. */
                if (access(a->image, F_OK) < 0)
                        return stage1_fail(s, errno, "Failed to mount overlay for app '%s' of pod '%s': image '%s': %m",
                                           c->name, s->name, c->image);

                if (userns) {
                        /* The init attaches the idmapped image on the app's root and mounts
                         * overlayfs over it. The pod's root cannot set trusted.* xattrs:
                         * overlayfs keeps its own in user.*. */
                        if (asprintf(&upper, "%s" POD_UPPER_DIR, a->dir) < 0 ||
                            asprintf(&work, "%s" POD_WORK_DIR, a->dir) < 0)
                                return stage1_fail(s, ENOMEM, "Out of memory.");
                        r = overlay_options_build(a->root, upper, work, &a->overlay_options);
                        if (r >= 0 && mnt_optstr_append_option(&a->overlay_options, "userxattr", NULL) < 0)
                                r = -ENOMEM;
                } else {
                        if (asprintf(&upper, "%s/%s" POD_UPPER_DIR, s->pod_dir, a->dir) < 0 ||
                            asprintf(&work, "%s/%s" POD_WORK_DIR, s->pod_dir, a->dir) < 0)
                                return stage1_fail(s, ENOMEM, "Out of memory.");
                        r = overlay_options_build(a->image, upper, work, &a->overlay_options);
                }
                if (r < 0)
                        return stage1_fail(s, r, "Failed to build the overlay options of app '%s' of pod '%s': %m",
                                           c->name, s->name);
        }

        s->init_apps[i] = (PodInitApp) {
                .name = c->name,
                .root = a->root,
                .source = a->rootfs,
                .overlay_options = a->overlay_options,
                .command = c->command,
                .environment = a->environment,
                .working_directory = c->working_directory,
                .user = c->user,
        };
        return 0;
}

/* Each bind's source, re-opened from the host's root as it is now: refused unless it is
 * still the inode, type and owner that were authorized when the pod was created, so that
 * swapping it for a symlink (or anything else) afterwards gains nothing. */
static int stage1_open_binds(Stage1 *s) {
        for (size_t i = 0; i < s->config.n_binds; i++) {
                const BindMount *b = s->config.binds + i;
                _cleanup_close_ int fd = -EBADF;
                int tree_fd;

                fd = bind_source_open(b, s->bind_st + i);
                if (fd < 0)
                        return stage1_fail(s, fd, "Refusing to bind '%s' onto '%s' in pod '%s': %s.", b->source,
                                           b->destination, s->name, bind_source_open_strerror(fd));
                tree_fd = bind_source_clone(b, fd);
                if (tree_fd < 0)
                        return stage1_fail(s, tree_fd, "Failed to clone the mount of '%s' for pod '%s': %m", b->source, s->name);

                s->bind_fds[s->n_bind_fds++] = tree_fd;
                s->init_binds[i] = (PodInitBind) {
                        .destination = b->destination,
                        .directory = b->directory,
                        .recursive = b->recursive,
                        .fd = tree_fd,
                };
        }
        return 0;
}

static int stage1_prepare(Stage1 *s) {
        int r;

        r = pod_config_load_at(s->pod_dir_fd, &s->config);
        if (r < 0)
                return stage1_fail(s, r, "Failed to load the configuration of pod '%s': %m", s->name);
        if (strcmp(s->config.name, s->name) != 0)
                return stage1_fail(s, EBADMSG, "The configuration of pod '%s' is for pod '%s'.", s->name, s->config.name);

        s->apps = calloc(s->config.n_apps, sizeof(Stage1App));
        s->init_apps = calloc(s->config.n_apps, sizeof(PodInitApp));
        if (!s->apps || !s->init_apps)
                return stage1_fail(s, ENOMEM, "Out of memory.");

        for (size_t i = 0; i < s->config.n_apps; i++) {
                r = stage1_prepare_app(s, i);
                if (r < 0)
                        return r;
        }
        return stage1_open_binds(s);
}

static int stage1_clone(Stage1 *s) {
        _cleanup_close_ int init_socket = -EBADF;
        PodInit init;
        int pair[2], flags;
        void *stack;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return stage1_fail(s, errno, "Failed to create a socket pair: %m");
        s->socket = pair[0];
        init_socket = pair[1];

        init = (PodInit) {
                .name = s->name,
                .pod_dir = s->pod_dir,
                .private_users = s->config.uid_shift != UID_INVALID,
                .apps = s->init_apps,
                .n_apps = s->config.n_apps,
                .binds = s->init_binds,
                .n_binds = s->n_bind_fds,
                .exit_policy = s->config.exit_policy,
                .private_network = !s->config.network_host,
                .read_only = s->config.read_only,
                .capabilities = caps_retained(&s->config),
                .socket = init_socket,
        };

        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
        if (init.private_network)
                flags |= CLONE_NEWNET;
        /* Created first, so it owns the others. */
        if (init.private_users)
                flags |= CLONE_NEWUSER;

        stack = mmap(NULL, POD_INIT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return stage1_fail(s, errno, "Failed to allocate a stack: %m");

        /* Without CLONE_VM the init has its own copy of the stack and of init. */
        pid = clone(pod_init_main, (char *) stack + POD_INIT_STACK_SIZE, flags | SIGCHLD, &init);
        if (pid < 0) {
                int r = -errno;
                (void) munmap(stack, POD_INIT_STACK_SIZE);
                return stage1_fail(s, r, "Failed to create the namespaces of pod '%s': %m", s->name);
        }
        (void) munmap(stack, POD_INIT_STACK_SIZE);

        s->pid = pid;
        return 0;
}

static int write_map(pid_t pid, const char *file, uint32_t shift) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char map[64];
        int n;

        if (asprintf(&path, "/proc/%d/%s", (int) pid, file) < 0)
                return -ENOMEM;
        n = snprintf(map, sizeof map, "0 %" PRIu32 " %" PRIu32 "\n", shift, POD_UID_RANGE_SIZE);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, map, (size_t) n) != n)
                return -errno;
        return 0;
}

/* In a child: copies the app's image into POD_DIR/DIR/.rootfs-shift/ (overlayfs cannot
 * shift an image it does not own). Returns 0 or -errno, after logging. */
static int stage1_copy_image(Stage1 *s, size_t i, const char *tmp) {
        Stage1App *a = s->apps + i;
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (pid == 0) {
                if (fchdir(s->pod_dir_fd) < 0 || chdir(tmp) < 0) {
                        log_error_errno(errno, "Failed to enter %s/%s: %m", s->pod_dir, tmp);
                        _exit(EXIT_FAILURE);
                }
                _exit(copy_tree(a->image, NULL, NULL) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Failed to wait for the copy of image '%s': %m", s->config.apps[i].image);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(EIO, "Failed to copy image '%s' for pod '%s'.", s->config.apps[i].image, s->name);
        return 0;
}

/* Where the kernel or the file system cannot idmap: the app's rootfs/ becomes its own
 * copy (on btrfs the snapshot is already; for overlayfs the image is copied), shifted
 * into the pod's UID range once, and recorded so in uid-shifted beside it. */
static int stage1_shift_app(Stage1 *s, size_t i) {
        Stage1App *a = s->apps + i;
        _cleanup_free_ char *marker = NULL, *tmp = NULL, *rootfs = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF, app_fd = -EBADF;
        UidShiftStats stats = {};
        int r;

        if (asprintf(&marker, "%s" POD_UID_SHIFTED_FILE, a->dir) < 0 ||
            asprintf(&tmp, "%s" POD_ROOTFS_SHIFT_DIR, a->dir) < 0 ||
            asprintf(&rootfs, "%s" POD_ROOTFS_DIR, a->dir) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");

        log_info("The file system of pod '%s' cannot be idmapped: shifting the files of app '%s' into its UID range.",
                 s->name, s->config.apps[i].name);

        if (s->config.storage == STORAGE_OVERLAY) {
                /* What an interrupted attempt left. */
                r = rm_rf_at(s->pod_dir_fd, tmp);
                if (r < 0 && r != -ENOENT)
                        return stage1_fail(s, r, "Failed to remove %s/%s: %m", s->pod_dir, tmp);
                if (mkdirat(s->pod_dir_fd, tmp, 0755) < 0)
                        return stage1_fail(s, errno, "Failed to create %s/%s: %m", s->pod_dir, tmp);
                r = stage1_copy_image(s, i, tmp);
                if (r < 0)
                        return stage1_fail(s, r, "Failed to copy image '%s' for app '%s' of pod '%s'.",
                                           s->config.apps[i].image, s->config.apps[i].name, s->name);
                fd = openat(s->pod_dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else
                fd = openat(s->pod_dir_fd, rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return stage1_fail(s, errno, "Failed to open the root of app '%s' of pod '%s': %m", s->config.apps[i].name, s->name);

        r = uid_shift_tree(fd, s->config.uid_shift, POD_UID_RANGE_SIZE, &stats);
        if (r < 0)
                return stage1_fail(s, r, "Failed to shift the files of app '%s' of pod '%s' to UID %" PRIu32 ": %m",
                                   s->config.apps[i].name, s->name, s->config.uid_shift);

        /* The empty mount point gives way to the copy. */
        if (s->config.storage == STORAGE_OVERLAY && renameat(s->pod_dir_fd, tmp, s->pod_dir_fd, rootfs) < 0)
                return stage1_fail(s, errno, "Failed to move the copy of app '%s' of pod '%s' into place: %m",
                                   s->config.apps[i].name, s->name);

        if (asprintf(&text, "%" PRIu32 "\n", s->config.uid_shift) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");
        /* Written beside the app's root: the temporary file must be in the same directory. */
        app_fd = openat(s->pod_dir_fd, *a->dir ? a->dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = app_fd < 0 ? -errno : write_file_atomic_at(app_fd, POD_UID_SHIFTED_FILE, text, strlen(text), 0644);
        if (r < 0)
                return stage1_fail(s, r, "Failed to write %s/%s: %m", s->pod_dir, marker);

        log_info("Shifted %" PRIu64 " of %" PRIu64 " files of app '%s' of pod '%s' (%" PRIu64 " owned by IDs outside the range).",
                 stats.n_changed, stats.n_inodes, s->config.apps[i].name, s->name, stats.n_foreign);
        return 0;
}

/* The app's root (btrfs) or image (overlay) as a detached mount idmapped to userns_fd; or,
 * where that cannot be, its shifted own copy as it is. */
static int stage1_idmap_app(Stage1 *s, size_t i, int userns_fd, int *ret_fd) {
        /* Private: a clone joins its source's peer group, and the mounts the init stacks
         * on it would propagate back onto the host's tree. */
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .propagation = MS_PRIVATE,
                .userns_fd = (uint64_t) userns_fd,
        };
        Stage1App *a = s->apps + i;
        _cleanup_free_ char *marker = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *source;
        int r;

        if (asprintf(&marker, "%s" POD_UID_SHIFTED_FILE, a->dir) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");
        a->shifted = faccessat(s->pod_dir_fd, marker, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;

        for (;;) {
                source = s->config.storage == STORAGE_OVERLAY && !a->shifted ? a->image : a->rootfs;
                fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (fd < 0)
                        return stage1_fail(s, errno, "Failed to clone the mount of %s for pod '%s': %m", source, s->name);
                if (a->shifted)
                        attr = (struct mount_attr) { .propagation = MS_PRIVATE };
                if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) >= 0)
                        break;
                /* What a file system without idmapped mounts answers. */
                if (a->shifted || !IN_SET(errno, EINVAL, EOPNOTSUPP, ENOSYS))
                        return stage1_fail(s, errno, "Failed to idmap %s for pod '%s': %m", source, s->name);

                fd = safe_close(fd);
                r = stage1_shift_app(s, i);
                if (r < 0)
                        return r;
                a->shifted = true;
        }

        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A user namespace of one UID and one GID, uid and gid, both mapped onto host ID shift:
 * through it the owner of a bind's source is the pod's root. */
static int userns_open_single(uid_t uid, gid_t gid, uint32_t shift, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char map[64];
        int pipe_fds[2], r = 0, status;
        pid_t pid;
        char c;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(pipe_fds[0]);
                safe_close(pipe_fds[1]);
                return r;
        }
        if (pid == 0) {
                /* Only there to hold the namespace while it is mapped and opened. */
                safe_close(pipe_fds[0]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(EXIT_FAILURE);
                (void) write(pipe_fds[1], "x", 1);
                pause();
                _exit(EXIT_SUCCESS);
        }
        safe_close(pipe_fds[1]);
        if (read(pipe_fds[0], &c, 1) != 1)
                r = -EPROTO;
        safe_close(pipe_fds[0]);

        for (unsigned k = 0; r >= 0 && k < 2; k++) {
                _cleanup_close_ int map_fd = -EBADF;
                int n = snprintf(map, sizeof map, "%" PRIu32 " %" PRIu32 " 1\n", k == 0 ? (uint32_t) uid : (uint32_t) gid, shift);

                free(path);
                path = NULL;
                if (asprintf(&path, "/proc/%d/%s", (int) pid, k == 0 ? "uid_map" : "gid_map") < 0)
                        r = -ENOMEM;
                else if ((map_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || write(map_fd, map, (size_t) n) != n)
                        r = -errno;
        }
        if (r >= 0) {
                free(path);
                path = NULL;
                if (asprintf(&path, "/proc/%d/ns/user", (int) pid) < 0)
                        r = -ENOMEM;
                else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                        r = -errno;
        }

        (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The group through which the pod's root writes to a user's source: the source's group if
 * its owner is in it, else the owner's primary group. */
static int user_bind_gid(uid_t uid, gid_t source_gid, gid_t *ret) {
        struct passwd pw, *found = NULL;
        gid_t groups[256];
        int n = (int) ELEMENTSOF(groups);
        char buf[4096];
        int r;

        r = getpwuid_r(uid, &pw, buf, sizeof buf, &found);
        if (r > 0)
                return -r;
        if (!found)
                return -ESRCH;
        /* Past 256 groups only the primary one counts. */
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
                n = 0;
        *ret = pw.pw_gid;
        for (int i = 0; i < n; i++)
                if (groups[i] == source_gid)
                        *ret = source_gid;
        return 0;
}

/* idmap: the pod's own namespace, owner N on disk is N in the pod; rootidmap: the
 * source's owner (as found at this start) is the pod's root. */
static int stage1_idmap_binds(Stage1 *s, int userns_fd) {
        for (size_t i = 0; i < s->n_bind_fds; i++) {
                const BindMount *b = s->config.binds + i;
                _cleanup_close_ int single_fd = -EBADF;
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
                int r;

                if (b->idmap == BIND_IDMAP_NO)
                        continue;
                if (b->idmap == BIND_IDMAP_ROOT) {
                        gid_t gid = s->bind_st[i].st_gid;

                        /* A user's source may belong to a group the user is not in (made in
                         * a setgid directory, say): the pod's root must not make files setgid
                         * to it. Files of a group not mapped show as nobody's and stay
                         * read-only in the pod. */
                        if (b->owner_uid != (uid_t) -1) {
                                r = user_bind_gid(b->owner_uid, gid, &gid);
                                if (r < 0)
                                        return stage1_fail(s, r, "Failed to look up the primary group of UID %u, "
                                                           "owner of '%s' in pod '%s': %m",
                                                           (unsigned) b->owner_uid, b->source, s->name);
                        }
                        r = userns_open_single(s->bind_st[i].st_uid, gid, s->config.uid_shift, &single_fd);
                        if (r < 0)
                                return stage1_fail(s, r, "Failed to make the user namespace for '%s' of pod '%s': %m",
                                                   b->source, s->name);
                }
                attr.userns_fd = (uint64_t) (single_fd >= 0 ? single_fd : userns_fd);
                if (mount_setattr(s->bind_fds[i], "", AT_EMPTY_PATH | (b->recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) >= 0)
                        continue;
                /* What a file system without idmapped mounts answers: the default gives way. */
                if (b->idmap_auto && IN_SET(errno, EINVAL, EOPNOTSUPP, ENOSYS)) {
                        log_info("The file system of '%s' cannot be idmapped: pod '%s' sees its owners through its own "
                                 "UID range (noidmap).", b->source, s->name);
                        continue;
                }
                return stage1_fail(s, errno, "Failed to idmap '%s' (%s) for pod '%s': %m", b->source,
                                   bind_idmap_to_string(b->idmap), s->name);
        }
        return 0;
}

/* Maps the init's user namespace to the pod's range and hands it each app's root (btrfs)
 * or image (overlay) as a detached mount idmapped to that namespace: the tree on disk
 * stays as it is, no chown. The init waits for this before anything else. */
static int stage1_map_users(Stage1 *s) {
        _cleanup_free_ char *ns = NULL;
        _cleanup_close_ int userns_fd = -EBADF;
        Stage1Message m = { .type = STAGE1_MESSAGE_MAPPED };
        int tree_fds[POD_APPS_MAX];
        size_t n = 0;
        int r;

        r = write_map(s->pid, "uid_map", s->config.uid_shift);
        if (r >= 0)
                r = write_map(s->pid, "gid_map", s->config.uid_shift);
        if (r < 0)
                return stage1_fail(s, r, "Failed to map the user namespace of pod '%s' to %" PRIu32 ": %m",
                                   s->name, s->config.uid_shift);

        if (asprintf(&ns, "/proc/%d/ns/user", (int) s->pid) < 0)
                return stage1_fail(s, ENOMEM, "Out of memory.");
        userns_fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (userns_fd < 0)
                return stage1_fail(s, errno, "Failed to open the user namespace of pod '%s': %m", s->name);

        for (n = 0; n < s->config.n_apps; n++) {
                r = stage1_idmap_app(s, n, userns_fd, tree_fds + n);
                if (r < 0) {
                        close_many(tree_fds, n);
                        return r;
                }
        }
        r = stage1_idmap_binds(s, userns_fd);
        if (r < 0) {
                close_many(tree_fds, n);
                return r;
        }

        for (size_t i = 0; i < n; i++)
                if (s->apps[i].shifted)
                        m.status |= 1 << i;
        r = stage1_message_send(s->socket, &m, tree_fds, n);
        close_many(tree_fds, n);
        /* On EPIPE the init is gone; stage1_expect() finds out why. */
        if (r < 0 && r != -EPIPE)
                return stage1_fail(s, r, "Failed to hand pod '%s' its root: %m", s->name);
        return 0;
}

static void stage1_reap(Stage1 *s) {
        int status;

        if (s->pid <= 0)
                return;

        while (waitpid(s->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        /* Cannot happen for our own child; do not wait forever if it does. */
                        log_warning_errno(errno, "Failed to wait for the init of pod '%s': %m", s->name);
                        status = W_EXITCODE(0, SIGKILL);
                        break;
                }

        s->pid = 0;
        s->init_status = status;
}

static void stage1_kill(Stage1 *s) {
        /* Never kill(0, ...): that is our own process group. */
        if (s->pid > 0)
                (void) kill(s->pid, SIGKILL);
}

/* Waits for the next message from the pod's init, handling stop signals meanwhile. Returns
 * 1 with a message, 0 once the init is gone, or -errno once it is killed for a broken
 * connection; in both cases it is reaped. Does not log. */
static int stage1_receive(Stage1 *s, Stage1Message *ret) {
        for (;;) {
                struct pollfd pfd[2] = {
                        { .fd = s->signal_fd, .events = POLLIN },
                        { .fd = s->socket, .events = POLLIN },
                };
                int r;

                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        stage1_kill(s);
                        stage1_reap(s);
                        return r;
                }

                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(s->signal_fd, &si, sizeof si) == sizeof si && s->pid > 0) {
                                if (s->go) {
                                        log_debug("Forwarding signal %u to pod '%s'.", si.ssi_signo, s->name);
                                        (void) kill(s->pid, (int) si.ssi_signo);
                                } else {
                                        /* Nothing runs in the pod that could shut down cleanly. */
                                        s->cancel_signal = (int) si.ssi_signo;
                                        stage1_kill(s);
                                }
                        }
                }

                if (pfd[1].revents) {
                        r = stage1_message_receive(s->socket, ret, NULL, 0, NULL);
                        if (r == -EAGAIN || r == -EINTR)
                                continue;
                        /* A broken init is done for. */
                        if (r < 0)
                                stage1_kill(s);
                        /* On EOF the init exits. */
                        if (r <= 0)
                                stage1_reap(s);
                        return r;
                }
        }
}

/* Waits for a message of the given type; anything else means the pod failed to start. */
static int stage1_expect(Stage1 *s, Stage1MessageType type) {
        Stage1Message m;
        ExitInfo e;
        int r;

        r = stage1_receive(s, &m);
        if (r > 0 && m.type == type)
                return 0;

        if (r > 0 && m.type == STAGE1_MESSAGE_FAILED)
                return stage1_fail(s, m.error, "%s", m.text);
        if (r > 0)
                return stage1_fail(s, EPROTO, "Unexpected message '%s' from the init of pod '%s'.",
                                   stage1_message_type_to_string(m.type), s->name);
        if (r < 0)
                return stage1_fail(s, r, "Lost the connection to the init of pod '%s': %m", s->name);
        if (s->cancel_signal > 0)
                return stage1_fail(s, ECANCELED, "Pod '%s' was stopped (SIG%s) before its app started.",
                                   s->name, signal_to_string(s->cancel_signal));
        if (exit_info_from_wait_status(s->init_status, &e) >= 0 && e.code != EXIT_CODE_EXITED)
                return stage1_fail(s, EPROTO, "The init of pod '%s' was killed by SIG%s before its app started.",
                                   s->name, signal_to_string(e.status));
        return stage1_fail(s, EPROTO, "The init of pod '%s' exited before its app started.", s->name);
}

static bool running_in_own_unit(const char *name) {
        _cleanup_free_ char *unit = NULL, *expected = NULL;

        if (sd_pid_get_unit(0, &unit) < 0)
                return false;
        expected = pod_unit_name(name);
        return expected && strcmp(unit, expected) == 0;
}

static void stage1_take_stdio(Stage1 *s, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *marker = NULL;
        int r;

        if (asprintf(&marker, PODCTL_STDIO_DIR "/%s", s->name) < 0) {
                log_oom();
                return;
        }
        /* The marker is for this start only. */
        if (unlink(marker) < 0) {
                if (errno != ENOENT)
                        log_warning_errno(errno, "Failed to remove %s, ignoring: %m", marker);
                return;
        }

        if (!bus) {
                log_warning("Cannot attach pod '%s' without a bus connection, logging to the journal.", s->name);
                return;
        }

        r = bus_take_pod_stdio(bus, s->name, s->stdio_fds, &error);
        if (r < 0) {
                log_warning_errno(r, "Failed to take the stdio of pod '%s' from podmachined, logging to the journal: %s",
                                  s->name, bus_error_message(&error, r));
                return;
        }
        s->n_stdio_fds = STAGE1_STDIO_FDS;
}

static int stage1_start(Stage1 *s) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Stage1Message go = { .type = STAGE1_MESSAGE_GO };
        bool in_unit;
        sigset_t ss;
        int r;

        /* Blocked from the start, so a stop request at any point is seen and handled. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return stage1_fail(s, errno, "Failed to block signals: %m");
        s->signal_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0)
                return stage1_fail(s, errno, "Failed to create signalfd: %m");

        r = stage1_prepare(s);
        if (r < 0)
                return r;

        /* The init sets up the mounts while we talk to the bus. */
        r = stage1_clone(s);
        if (r < 0)
                return r;
        if (s->config.uid_shift != UID_INVALID) {
                r = stage1_map_users(s);
                if (r < 0)
                        return r;
        }

        in_unit = running_in_own_unit(s->name);

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                if (in_unit)
                        return stage1_fail(s, r, "Failed to connect to the system bus: %m");
                log_warning_errno(r, "Failed to connect to the system bus, not registering pod '%s': %m", s->name);
                bus = NULL;
        }

        stage1_take_stdio(s, bus);

        if (in_unit) {
                _cleanup_free_ char *unit = pod_unit_name(s->name);

                if (!unit)
                        return stage1_fail(s, ENOMEM, "Out of memory.");
                r = bus_set_unit_limits(bus, unit, &s->config, &error);
                if (r < 0)
                        return stage1_fail(s, r, "Failed to apply the limits of pod '%s' to %s: %s",
                                           s->name, unit, bus_error_message(&error, r));
        }

        r = stage1_expect(s, STAGE1_MESSAGE_READY);
        if (r < 0)
                return r;
        /* Attached in the pod by now. */
        close_many(s->bind_fds, s->n_bind_fds);

        if (bus) {
                r = bus_register_machine(bus, s->name, s->pid, s->apps[0].rootfs, &error);
                if (r < 0) {
                        if (in_unit)
                                return stage1_fail(s, r, "Failed to register pod '%s' with systemd-machined: %s",
                                                   s->name, bus_error_message(&error, r));
                        log_warning_errno(r, "Failed to register pod '%s' with systemd-machined, ignoring: %s",
                                          s->name, bus_error_message(&error, r));
                }
        }

        /* Nothing of ours stays open while the pod runs. */
        bus = sd_bus_flush_close_unref(bus);

        r = stage1_message_send(s->socket, &go, s->stdio_fds, s->n_stdio_fds);
        if (r < 0 && r != -EPIPE)
                return stage1_fail(s, r, "Failed to start pod '%s': %m", s->name);
        /* On EPIPE the init is gone; stage1_expect() finds out why. */
        s->go = true;
        for (size_t i = 0; i < s->n_stdio_fds; i++)
                s->stdio_fds[i] = safe_close(s->stdio_fds[i]);
        s->n_stdio_fds = 0;

        r = stage1_expect(s, STAGE1_MESSAGE_STARTED);
        if (r < 0)
                return r;

        /* Ready means registered and the app executed. */
        (void) sd_notify(false, "READY=1");
        log_debug("Pod '%s' started in %" PRIu64 " us.", s->name, monotonic_usec() - s->start_usec);
        return 0;
}

static void log_app_exit(const Stage1 *s, const char *app, const ExitInfo *e) {
        if (e->code == EXIT_CODE_EXITED)
                log_info("App '%s' of pod '%s' exited with status %i.", app, s->name, e->status);
        else
                log_info("App '%s' of pod '%s' was killed by SIG%s.", app, s->name, signal_to_string(e->status));
}

static void stage1_app_exited(Stage1 *s, const Stage1Message *m) {
        Stage1App *a;

        if (m->app >= s->config.n_apps || s->apps[m->app].exited) {
                log_debug("Ignoring an exit of app %u from the init of pod '%s'.", m->app, s->name);
                return;
        }
        a = s->apps + m->app;
        if (exit_info_from_wait_status(m->status, &a->exit) < 0)
                return;
        a->exited = true;
        s->n_exited++;
        if (s->config.n_apps > 1)
                log_app_exit(s, s->config.apps[m->app].name, &a->exit);

        /* The init applies the same policy; what comes after the decision is the pod
         * stopping its other apps. */
        if (s->deciding_app >= 0)
                return;
        if (s->first_failed_app < 0 && exit_info_failed(&a->exit))
                s->first_failed_app = m->app;
        if (exit_policy_ends_pod(s->config.exit_policy, &a->exit, s->config.n_apps - s->n_exited))
                s->deciding_app = m->app;
}

/* The pod's end is that of the first app that failed before the pod was decided to end,
 * or else of the app whose end decided it; every app's end is kept as well. */
static int stage1_decide_exit(Stage1 *s) {
        ssize_t k = s->first_failed_app >= 0 ? s->first_failed_app : s->deciding_app;

        if (k >= 0) {
                s->exit_info.code = s->apps[k].exit.code;
                s->exit_info.status = s->apps[k].exit.status;
        } else if (exit_info_from_wait_status(s->init_status, &s->exit_info) < 0)
                /* Without word from the init (it was killed, by the OOM killer say), its own
                 * end is the pod's. */
                s->exit_info = (ExitInfo) { .code = EXIT_CODE_KILLED, .status = SIGKILL };

        s->exit_info.apps = calloc(s->config.n_apps, sizeof(AppExit));
        if (!s->exit_info.apps)
                return log_oom();
        for (size_t i = 0; i < s->config.n_apps; i++) {
                AppExit *e = s->exit_info.apps + i;

                e->name = strdup(s->config.apps[i].name);
                if (!e->name)
                        return log_oom();
                s->exit_info.n_apps = i + 1;
                if (s->apps[i].exited) {
                        e->code = s->apps[i].exit.code;
                        e->status = s->apps[i].exit.status;
                } else {
                        /* Still running when the init exited: the kernel killed it. */
                        e->code = EXIT_CODE_KILLED;
                        e->status = SIGKILL;
                }
        }
        return 0;
}

static int stage1_wait(Stage1 *s) {
        Stage1Message m;
        int r;

        for (;;) {
                r = stage1_receive(s, &m);
                if (r < 0)
                        log_error_errno(r, "Lost the connection to the init of pod '%s', killed it: %m", s->name);
                if (r <= 0)
                        break;

                if (m.type == STAGE1_MESSAGE_EXITED)
                        stage1_app_exited(s, &m);
                else
                        log_debug("Ignoring unexpected message '%s' from the init of pod '%s'.",
                                  stage1_message_type_to_string(m.type), s->name);
        }

        return stage1_decide_exit(s);
}

int stage1_run(const char *name) {
        _cleanup_(stage1_done) Stage1 s = {
                .name = name,
                .pod_dir_fd = -EBADF,
                .socket = -EBADF,
                .signal_fd = -EBADF,
                .deciding_app = -1,
                .first_failed_app = -1,
                .start_usec = monotonic_usec(),
        };
        int r;

        pod_config_init(&s.config);

        if (!name_is_valid(name)) {
                log_error("Invalid pod name '%s'.", name);
                return EXIT_FAILURE;
        }

        if (asprintf(&s.pod_dir, PODCTL_PODS_DIR "/%s", name) < 0) {
                log_oom();
                return EXIT_FAILURE;
        }
        s.pod_dir_fd = open(s.pod_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s.pod_dir_fd < 0) {
                if (errno == ENOENT)
                        log_error("Pod '%s' does not exist.", name);
                else
                        log_error_errno(errno, "Failed to open %s: %m", s.pod_dir);
                return EXIT_FAILURE;
        }

        if (unlinkat(s.pod_dir_fd, POD_EXIT_FILE, 0) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove the old %s of pod '%s', ignoring: %m", POD_EXIT_FILE, name);

        r = stage1_start(&s);
        if (r >= 0)
                (void) stage1_wait(&s);
        else {
                stage1_kill(&s);
                stage1_reap(&s);
        }

        switch (s.exit_info.code) {
        case EXIT_CODE_EXITED:
                log_debug("The app of pod '%s' exited with status %i.", name, s.exit_info.status);
                break;
        case EXIT_CODE_KILLED:
        case EXIT_CODE_DUMPED:
                log_debug("The app of pod '%s' was killed by SIG%s.", name, signal_to_string(s.exit_info.status));
                break;
        default:
                break;
        }

        s.exit_info.finished_usec = now_usec();
        r = exit_info_save_at(s.pod_dir_fd, &s.exit_info);
        if (r < 0)
                log_error_errno(r, "Failed to write %s of pod '%s': %m", POD_EXIT_FILE, name);

        return exit_info_to_exit_status(&s.exit_info);
}
