/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/capability.h>

#include "caps.h"
#include "tests.h"

/* What the pod's root could use to become the host's root, or to reach the host's kernel,
 * clock, audit log or devices. */
static const int never_by_default[] = {
        CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYS_BOOT,
        CAP_SYS_PTRACE, CAP_MKNOD, CAP_SYSLOG, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE, CAP_BPF,
        CAP_PERFMON, CAP_AUDIT_CONTROL, CAP_AUDIT_READ, CAP_AUDIT_WRITE, CAP_LINUX_IMMUTABLE,
        CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_CHECKPOINT_RESTORE, CAP_IPC_LOCK, CAP_SYS_PACCT,
};

/* systemd-nspawn's default retained set, with CAP_NET_ADMIN for a private network. */
static const uint64_t nspawn_default =
        CAP_MASK(CAP_AUDIT_CONTROL) | CAP_MASK(CAP_AUDIT_WRITE) | CAP_MASK(CAP_CHOWN) |
        CAP_MASK(CAP_DAC_OVERRIDE) | CAP_MASK(CAP_DAC_READ_SEARCH) | CAP_MASK(CAP_FOWNER) |
        CAP_MASK(CAP_FSETID) | CAP_MASK(CAP_IPC_OWNER) | CAP_MASK(CAP_KILL) | CAP_MASK(CAP_LEASE) |
        CAP_MASK(CAP_LINUX_IMMUTABLE) | CAP_MASK(CAP_MKNOD) | CAP_MASK(CAP_NET_BIND_SERVICE) |
        CAP_MASK(CAP_NET_BROADCAST) | CAP_MASK(CAP_NET_RAW) | CAP_MASK(CAP_SETFCAP) |
        CAP_MASK(CAP_SETGID) | CAP_MASK(CAP_SETPCAP) | CAP_MASK(CAP_SETUID) |
        CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_SYS_BOOT) | CAP_MASK(CAP_SYS_CHROOT) |
        CAP_MASK(CAP_SYS_NICE) | CAP_MASK(CAP_SYS_PTRACE) | CAP_MASK(CAP_SYS_RESOURCE) |
        CAP_MASK(CAP_SYS_TTY_CONFIG) | CAP_MASK(CAP_NET_ADMIN);

TEST(default_private_network) {
        PodConfig c = {};
        uint64_t m = caps_retained(&c);

        ASSERT_EQ(m & ~nspawn_default, 0);
        for (size_t i = 0; i < sizeof never_by_default / sizeof never_by_default[0]; i++)
                ASSERT_FALSE(m & CAP_MASK(never_by_default[i]));
        ASSERT_TRUE(m & CAP_MASK(CAP_NET_ADMIN));
        ASSERT_TRUE(m & CAP_MASK(CAP_NET_RAW));
        ASSERT_TRUE(m & CAP_MASK(CAP_NET_BIND_SERVICE));
        ASSERT_TRUE(m & CAP_MASK(CAP_CHOWN));
        ASSERT_TRUE(m & CAP_MASK(CAP_SETUID));
        ASSERT_TRUE(m & CAP_MASK(CAP_SETGID));
        ASSERT_TRUE(m & CAP_MASK(CAP_KILL));
        ASSERT_TRUE(m & CAP_MASK(CAP_SYS_CHROOT));
}

TEST(host_network) {
        PodConfig c = { .network_host = true };
        uint64_t m = caps_retained(&c);

        ASSERT_FALSE(m & CAP_MASK(CAP_NET_ADMIN));
        ASSERT_FALSE(m & CAP_MASK(CAP_NET_RAW));
        ASSERT_TRUE(m & CAP_MASK(CAP_NET_BIND_SERVICE));
        ASSERT_EQ(m | CAP_MASK(CAP_NET_ADMIN) | CAP_MASK(CAP_NET_RAW), caps_retained(&(PodConfig) {}));
}

TEST(add_and_drop) {
        PodConfig c = {
                .network_host = true,
                .capabilities_add = CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_NET_ADMIN),
                .capabilities_drop = CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_SYS_ADMIN),
        };
        uint64_t m = caps_retained(&c);

        /* An admin's add is honoured even for the host's network; drop wins over add. */
        ASSERT_TRUE(m & CAP_MASK(CAP_NET_ADMIN));
        ASSERT_FALSE(m & CAP_MASK(CAP_SYS_ADMIN));
        ASSERT_FALSE(m & CAP_MASK(CAP_CHOWN));
        ASSERT_TRUE(m & CAP_MASK(CAP_SETUID));

        c = (PodConfig) { .capabilities_drop = UINT64_MAX };
        ASSERT_EQ(caps_retained(&c), 0);
}

int main(void) {
        RUN(default_private_network);
        RUN(host_network);
        RUN(add_and_drop);
        return 0;
}
