/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "stage1-protocol.h"
#include "tests.h"

static void roundtrip(const Stage1Message *m) {
        char buf[STAGE1_PACKET_SIZE_MAX];
        Stage1Message u;
        int n;

        n = stage1_message_pack(m, buf, sizeof buf);
        ASSERT_OK(n);
        ASSERT_EQ(n, STAGE1_PACKET_HEADER_SIZE + strlen(m->text));
        ASSERT_OK(stage1_message_unpack(buf, (size_t) n, &u));
        ASSERT_EQ(u.type, m->type);
        ASSERT_EQ(u.error, m->error);
        ASSERT_EQ(u.status, m->status);
        ASSERT_EQ(u.app, m->app);
        ASSERT_STREQ(u.text, m->text);
}

TEST(pack_unpack) {
        Stage1Message m;

        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_READY });
        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_GO });
        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_STARTED });
        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_EXEC, .status = STAGE1_EXEC_APP | STAGE1_EXEC_STDIO });
        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .status = W_EXITCODE(3, 0) });
        roundtrip(&(Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .status = W_EXITCODE(0, 15), .app = POD_APPS_MAX - 1 });

        ASSERT_EQ(stage1_message_failed(&m, -ENOENT, "Failed to execute '%s': %m", "foo"), -ENOENT);
        ASSERT_EQ(m.type, STAGE1_MESSAGE_FAILED);
        ASSERT_EQ(m.error, ENOENT);
        ASSERT_STREQ(m.text, "Failed to execute 'foo': No such file or directory");
        roundtrip(&m);

        /* The longest text that fits. */
        m.text[0] = 0;
        memset(m.text, 'x', sizeof m.text - 1);
        m.text[sizeof m.text - 1] = 0;
        roundtrip(&m);
}

TEST(failed_truncates) {
        char big[2000];
        Stage1Message m;

        memset(big, 'y', sizeof big - 1);
        big[sizeof big - 1] = 0;
        ASSERT_EQ(stage1_message_failed(&m, EPERM, "%s", big), -EPERM);
        ASSERT_EQ(strlen(m.text), STAGE1_TEXT_MAX - 1);
        roundtrip(&m);

        /* Not an errno: still a valid FAILED message. */
        ASSERT_EQ(stage1_message_failed(&m, 0, "x"), -EIO);
        ASSERT_EQ(stage1_message_failed(&m, 100000, "x"), -EIO);
}

TEST(pack_invalid) {
        char buf[STAGE1_PACKET_SIZE_MAX];

        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = _STAGE1_MESSAGE_TYPE_MAX }, buf, sizeof buf), -EINVAL);
        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = STAGE1_MESSAGE_FAILED }, buf, sizeof buf), -EINVAL);
        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = STAGE1_MESSAGE_READY, .error = 5 }, buf, sizeof buf), -EINVAL);
        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = STAGE1_MESSAGE_READY, .text = "abc" }, buf, STAGE1_PACKET_HEADER_SIZE + 1), -ENOBUFS);
        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = STAGE1_MESSAGE_EXITED, .app = POD_APPS_MAX }, buf, sizeof buf), -EINVAL);
        ASSERT_EQ(stage1_message_pack(&(Stage1Message) { .type = STAGE1_MESSAGE_READY, .app = 1 }, buf, sizeof buf), -EINVAL);
}

static size_t packet_app(char *buf, uint32_t type, uint32_t error, uint32_t status, uint32_t app, const char *text, size_t n) {
        uint32_t h[4] = { type, error, status, app };

        memcpy(buf, h, sizeof h);
        memcpy(buf + sizeof h, text, n);
        return sizeof h + n;
}

static size_t packet(char *buf, uint32_t type, uint32_t error, uint32_t status, const char *text, size_t n) {
        return packet_app(buf, type, error, status, 0, text, n);
}

TEST(unpack_invalid) {
        char buf[STAGE1_PACKET_SIZE_MAX + 10] = {};
        Stage1Message m;
        size_t n;

        ASSERT_EQ(stage1_message_unpack(buf, 0, &m), -EBADMSG);
        ASSERT_EQ(stage1_message_unpack(buf, STAGE1_PACKET_HEADER_SIZE - 1, &m), -EBADMSG);
        ASSERT_EQ(stage1_message_unpack(buf, STAGE1_PACKET_SIZE_MAX + 1, &m), -EBADMSG);

        n = packet(buf, _STAGE1_MESSAGE_TYPE_MAX, 0, 0, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet(buf, UINT32_MAX, 0, 0, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        /* FAILED needs an errno, the others must not have one. */
        n = packet(buf, STAGE1_MESSAGE_FAILED, 0, 0, "x", 1);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet(buf, STAGE1_MESSAGE_FAILED, (uint32_t) -2, 0, "x", 1);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet(buf, STAGE1_MESSAGE_READY, 2, 0, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet(buf, STAGE1_MESSAGE_READY, 0, 1, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        /* STARTED may carry the PID of what podctl-exec-helper executed, not a negative one. */
        n = packet(buf, STAGE1_MESSAGE_STARTED, 0, 1234, "", 0);
        ASSERT_OK(stage1_message_unpack(buf, n, &m));
        ASSERT_EQ(m.status, 1234);
        n = packet(buf, STAGE1_MESSAGE_STARTED, 0, (uint32_t) -1, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        /* EXEC's status says which fds come, nothing else. */
        n = packet(buf, STAGE1_MESSAGE_EXEC, 0, 4, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        /* Only EXITED names an app, and only one the pod can have. */
        n = packet_app(buf, STAGE1_MESSAGE_STARTED, 0, 0, 1, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet_app(buf, STAGE1_MESSAGE_EXITED, 0, 0, POD_APPS_MAX, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
        n = packet_app(buf, STAGE1_MESSAGE_EXITED, 0, 0, POD_APPS_MAX - 1, "", 0);
        ASSERT_OK(stage1_message_unpack(buf, n, &m));
        ASSERT_EQ(m.app, POD_APPS_MAX - 1);
        /* MAPPED's status is a mask of apps. */
        n = packet(buf, STAGE1_MESSAGE_MAPPED, 0, (1U << POD_APPS_MAX) - 1, "", 0);
        ASSERT_OK(stage1_message_unpack(buf, n, &m));
        n = packet(buf, STAGE1_MESSAGE_MAPPED, 0, 1U << POD_APPS_MAX, "", 0);
        ASSERT_EQ(stage1_message_unpack(buf, n, &m), -EBADMSG);
}

TEST(unpack_sanitizes) {
        char buf[STAGE1_PACKET_SIZE_MAX];
        Stage1Message m;
        size_t n;

        n = packet(buf, STAGE1_MESSAGE_FAILED, EPERM, 0, "a\nb\0c\x1b[31m\x7f", 11);
        ASSERT_OK(stage1_message_unpack(buf, n, &m));
        ASSERT_STREQ(m.text, "a?b?c?[31m?");
}

TEST(send_receive) {
        Stage1Message m, r;
        int pair[2], fds[STAGE1_FDS_MAX], got[STAGE1_FDS_MAX];
        size_t n_fds = 99;

        ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair));

        stage1_message_failed(&m, EACCES, "Failed to mount overlay for pod '%s': %m", "web");
        ASSERT_OK(stage1_message_send(pair[0], &m, NULL, 0));
        ASSERT_EQ(stage1_message_receive(pair[1], &r, NULL, 0, &n_fds), 1);
        ASSERT_EQ(n_fds, 0);
        ASSERT_EQ(r.type, STAGE1_MESSAGE_FAILED);
        ASSERT_EQ(r.error, EACCES);
        ASSERT_STREQ(r.text, "Failed to mount overlay for pod 'web': Permission denied");

        /* GO with the stdio of an attached client. */
        for (size_t i = 0; i < STAGE1_FDS_MAX; i++)
                ASSERT_OK(fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC));
        m = (Stage1Message) { .type = STAGE1_MESSAGE_GO };
        ASSERT_OK(stage1_message_send(pair[0], &m, fds, STAGE1_FDS_MAX));
        ASSERT_EQ(stage1_message_receive(pair[1], &r, got, STAGE1_FDS_MAX, &n_fds), 1);
        ASSERT_EQ(r.type, STAGE1_MESSAGE_GO);
        ASSERT_EQ(n_fds, STAGE1_FDS_MAX);
        for (size_t i = 0; i < STAGE1_FDS_MAX; i++) {
                ASSERT_TRUE(got[i] >= 0);
                ASSERT_TRUE(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
                close(got[i]);
        }

        /* fds where none are expected make the message invalid, and are closed. */
        ASSERT_OK(stage1_message_send(pair[0], &m, fds, 1));
        ASSERT_EQ(stage1_message_receive(pair[1], &r, NULL, 0, NULL), -EBADMSG);
        for (size_t i = 0; i < STAGE1_FDS_MAX; i++)
                close(fds[i]);

        /* A packet that is too large. */
        {
                char big[STAGE1_PACKET_SIZE_MAX + 100] = {};
                ASSERT_TRUE(send(pair[0], big, sizeof big, 0) == sizeof big);
                ASSERT_EQ(stage1_message_receive(pair[1], &r, NULL, 0, NULL), -EBADMSG);
        }

        /* EOF. */
        close(pair[0]);
        ASSERT_EQ(stage1_message_receive(pair[1], &r, NULL, 0, NULL), 0);
        ASSERT_EQ(stage1_message_send(pair[1], &m, NULL, 0), -EPIPE);
        close(pair[1]);
}

TEST(wait_status) {
        ExitInfo e;

        ASSERT_OK(exit_info_from_wait_status(W_EXITCODE(3, 0), &e));
        ASSERT_EQ(e.code, EXIT_CODE_EXITED);
        ASSERT_EQ(e.status, 3);
        ASSERT_EQ(exit_info_to_exit_status(&e), 3);

        ASSERT_OK(exit_info_from_wait_status(W_EXITCODE(0, SIGTERM), &e));
        ASSERT_EQ(e.code, EXIT_CODE_KILLED);
        ASSERT_EQ(e.status, SIGTERM);
        ASSERT_EQ(exit_info_to_exit_status(&e), 143);

        ASSERT_OK(exit_info_from_wait_status(W_EXITCODE(0, SIGSEGV) | WCOREFLAG, &e));
        ASSERT_EQ(e.code, EXIT_CODE_DUMPED);
        ASSERT_EQ(e.status, SIGSEGV);

        ASSERT_EQ(exit_info_from_wait_status(W_STOPCODE(SIGSTOP), &e), -EINVAL);
}

int main(void) {
        RUN(pack_unpack);
        RUN(failed_truncates);
        RUN(pack_invalid);
        RUN(unpack_invalid);
        RUN(unpack_sanitizes);
        RUN(send_receive);
        RUN(wait_status);
        return 0;
}
