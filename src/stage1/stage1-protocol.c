/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "stage1-protocol.h"

static const char *const stage1_message_type_table[_STAGE1_MESSAGE_TYPE_MAX] = {
        [STAGE1_MESSAGE_READY] = "ready",
        [STAGE1_MESSAGE_GO] = "go",
        [STAGE1_MESSAGE_STARTED] = "started",
        [STAGE1_MESSAGE_FAILED] = "failed",
        [STAGE1_MESSAGE_EXITED] = "exited",
        [STAGE1_MESSAGE_MAPPED] = "mapped",
        [STAGE1_MESSAGE_EXEC] = "exec",
};

const char *stage1_message_type_to_string(Stage1MessageType t) {
        return t >= 0 && t < _STAGE1_MESSAGE_TYPE_MAX ? stage1_message_type_table[t] : NULL;
}

/* errno values are small; anything else is not one. */
static int errno_is_valid(int e) {
        return e > 0 && e < 4096;
}

int stage1_message_pack(const Stage1Message *m, void *buf, size_t size) {
        uint32_t header[4];
        size_t n;

        if (m->type < 0 || m->type >= _STAGE1_MESSAGE_TYPE_MAX)
                return -EINVAL;
        if ((m->type == STAGE1_MESSAGE_FAILED) != !!errno_is_valid(m->error))
                return -EINVAL;
        if (m->app >= POD_APPS_MAX || (m->type != STAGE1_MESSAGE_EXITED && m->app != 0))
                return -EINVAL;

        n = strnlen(m->text, sizeof m->text);
        if (n >= sizeof m->text)
                return -EINVAL;
        if (size < STAGE1_PACKET_HEADER_SIZE + n)
                return -ENOBUFS;

        header[0] = (uint32_t) m->type;
        header[1] = (uint32_t) m->error;
        header[2] = (uint32_t) m->status;
        header[3] = m->app;
        memcpy(buf, header, sizeof header);
        memcpy((char *) buf + sizeof header, m->text, n);

        return (int) (STAGE1_PACKET_HEADER_SIZE + n);
}

int stage1_message_unpack(const void *buf, size_t size, Stage1Message *ret) {
        Stage1Message m = {};
        uint32_t header[4];
        size_t n;

        if (size < STAGE1_PACKET_HEADER_SIZE || size > STAGE1_PACKET_SIZE_MAX)
                return -EBADMSG;

        memcpy(header, buf, sizeof header);
        if (header[0] >= _STAGE1_MESSAGE_TYPE_MAX)
                return -EBADMSG;
        m.type = (Stage1MessageType) header[0];
        m.error = (int) header[1];
        m.status = (int) header[2];
        m.app = header[3];

        if (m.type == STAGE1_MESSAGE_FAILED ? !errno_is_valid(m.error) : m.error != 0)
                return -EBADMSG;
        if (m.type != STAGE1_MESSAGE_EXITED && m.app != 0)
                return -EBADMSG;
        if (m.type == STAGE1_MESSAGE_MAPPED ? (unsigned) m.status >= (1U << POD_APPS_MAX) :
            m.type == STAGE1_MESSAGE_STARTED ? m.status < 0 :
            m.type == STAGE1_MESSAGE_EXEC ? (m.status & ~(STAGE1_EXEC_APP | STAGE1_EXEC_STDIO)) != 0 :
            m.type != STAGE1_MESSAGE_EXITED && m.status != 0)
                return -EBADMSG;
        if (m.app >= POD_APPS_MAX)
                return -EBADMSG;

        n = size - STAGE1_PACKET_HEADER_SIZE;
        memcpy(m.text, (const char *) buf + STAGE1_PACKET_HEADER_SIZE, n);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) m.text[i] < ' ' || m.text[i] == 0x7f)
                        m.text[i] = '?';
        m.text[n] = 0;

        *ret = m;
        return 0;
}

int stage1_message_send(int fd, const Stage1Message *m, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr cmsghdr;
                char buf[CMSG_SPACE(sizeof(int) * STAGE1_FDS_MAX)];
        } control = {};
        char buf[STAGE1_PACKET_SIZE_MAX];
        struct iovec iov;
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        int n;

        if (n_fds > STAGE1_FDS_MAX)
                return -EINVAL;

        n = stage1_message_pack(m, buf, sizeof buf);
        if (n < 0)
                return n;
        iov = (struct iovec) { .iov_base = buf, .iov_len = (size_t) n };

        if (n_fds > 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }

        for (;;) {
                if (sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

static void close_many(const int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

int stage1_message_receive(int fd, Stage1Message *ret, int *ret_fds, size_t n_fds_max, size_t *ret_n_fds) {
        union {
                struct cmsghdr cmsghdr;
                char buf[CMSG_SPACE(sizeof(int) * STAGE1_FDS_MAX)];
        } control;
        /* One byte more than the largest valid packet, so that a larger one is noticed. */
        char buf[STAGE1_PACKET_SIZE_MAX + 1];
        int fds[STAGE1_FDS_MAX];
        size_t n_fds = 0;
        struct iovec iov = {
                .iov_base = buf,
                .iov_len = sizeof buf,
        };
        struct msghdr mh;
        ssize_t n;
        int r;

        for (;;) {
                mh = (struct msghdr) {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (n >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int x;

                        memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n_fds < STAGE1_FDS_MAX)
                                fds[n_fds++] = x;
                        else
                                safe_close(x);
                }
        }

        if (n == 0 && n_fds == 0)
                return 0;

        r = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_fds > n_fds_max ? -EBADMSG :
                stage1_message_unpack(buf, (size_t) n, ret);
        if (r < 0) {
                close_many(fds, n_fds);
                return r;
        }

        if (ret_fds)
                memcpy(ret_fds, fds, sizeof(int) * n_fds);
        if (ret_n_fds)
                *ret_n_fds = n_fds;
        return 1;
}

int stage1_message_failed(Stage1Message *m, int error, const char *format, ...) {
        va_list ap;

        error = error < 0 ? -error : error;
        if (!errno_is_valid(error))
                error = EIO;

        *m = (Stage1Message) {
                .type = STAGE1_MESSAGE_FAILED,
                .error = error,
        };

        errno = error;
        va_start(ap, format);
        (void) vsnprintf(m->text, sizeof m->text, format, ap);
        va_end(ap);

        return -error;
}

int exit_info_from_wait_status(int status, ExitInfo *ret) {
        if (WIFEXITED(status))
                *ret = (ExitInfo) { .code = EXIT_CODE_EXITED, .status = WEXITSTATUS(status) };
        else if (WIFSIGNALED(status))
                *ret = (ExitInfo) {
                        .code = WCOREDUMP(status) ? EXIT_CODE_DUMPED : EXIT_CODE_KILLED,
                        .status = WTERMSIG(status),
                };
        else
                return -EINVAL;
        return 0;
}
