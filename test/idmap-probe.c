/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idmap-probe PATH: whether the file system of PATH takes idmapped mounts. Makes a user
 * namespace mapping 0 to 524288 (65536 wide), clones the mount of PATH and idmaps it.
 * Prints "idmap: yes" (exit 0) or "idmap: no: ERROR" (exit 1); exit 2 if it could not ask. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t) strlen(text) ? 0 : -1;
}

int main(int argc, char *argv[]) {
        char path[64];
        int pipe_fds[2], userns_fd, tree_fd;
        pid_t pid;
        char c;

        if (argc != 2) {
                fprintf(stderr, "usage: idmap-probe PATH\n");
                return 2;
        }
        if (pipe(pipe_fds) < 0)
                return 2;

        /* A child that only holds a user namespace open until we are done. */
        pid = fork();
        if (pid < 0)
                return 2;
        if (pid == 0) {
                close(pipe_fds[1]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(2);
                (void) read(pipe_fds[0], &c, 1);
                _exit(0);
        }
        close(pipe_fds[0]);
        usleep(100 * 1000);

        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        if (write_file(path, "0 524288 65536\n") < 0) {
                fprintf(stderr, "idmap-probe: failed to write %s: %m\n", path);
                return 2;
        }
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) pid);
        if (write_file(path, "0 524288 65536\n") < 0)
                return 2;
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
        userns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (userns_fd < 0)
                return 2;

        tree_fd = (int) syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree_fd < 0) {
                fprintf(stderr, "idmap-probe: failed to clone the mount of %s: %m\n", argv[1]);
                return 2;
        }
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned) userns_fd };
        int r = (int) syscall(SYS_mount_setattr, tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr);
        int e = errno;

        close(pipe_fds[1]);
        (void) waitpid(pid, NULL, 0);
        if (r < 0) {
                printf("idmap: no: %s\n", strerror(e));
                return 1;
        }
        printf("idmap: yes\n");
        return 0;
}
