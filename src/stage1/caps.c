/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "macro.h"

/* systemd-nspawn's default retained set less what is host root's alone while the pod's
 * root is the host's: CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_PTRACE, CAP_MKNOD,
 * CAP_LINUX_IMMUTABLE, CAP_AUDIT_CONTROL. CAP_AUDIT_WRITE goes too: the audit log is the
 * host's, and the seccomp filter cannot refuse audit sockets made through i386's
 * socketcall(). */
#define CAPS_DEFAULT                                                                    \
        (CAP_MASK(CAP_CHOWN) | CAP_MASK(CAP_DAC_OVERRIDE) | CAP_MASK(CAP_DAC_READ_SEARCH) | \
         CAP_MASK(CAP_FOWNER) | CAP_MASK(CAP_FSETID) | CAP_MASK(CAP_KILL) |                 \
         CAP_MASK(CAP_SETGID) | CAP_MASK(CAP_SETUID) | CAP_MASK(CAP_SETPCAP) |              \
         CAP_MASK(CAP_SETFCAP) | CAP_MASK(CAP_NET_BIND_SERVICE) |                           \
         CAP_MASK(CAP_NET_BROADCAST) | CAP_MASK(CAP_IPC_OWNER) | CAP_MASK(CAP_LEASE) |      \
         CAP_MASK(CAP_SYS_CHROOT) | CAP_MASK(CAP_SYS_NICE) | CAP_MASK(CAP_SYS_RESOURCE) |   \
         CAP_MASK(CAP_SYS_TTY_CONFIG))

/* In the host's network namespace these would reconfigure or sniff the host's network. */
#define CAPS_PRIVATE_NETWORK (CAP_MASK(CAP_NET_ADMIN) | CAP_MASK(CAP_NET_RAW))

uint64_t caps_retained(const PodConfig *c) {
        uint64_t mask = CAPS_DEFAULT;

        if (!c->network_host)
                mask |= CAPS_PRIVATE_NETWORK;

        return (mask | c->capabilities_add) & ~c->capabilities_drop;
}

int caps_apply(uint64_t mask) {
        cap_value_t last = (cap_value_t) cap_max_bits() - 1;
        cap_value_t keep[64];
        size_t n_keep = 0;
        cap_t caps;
        int r = 0;

        if (last > 63)
                last = 63;

        caps = cap_get_proc();
        if (!caps)
                return negative_errno();

        for (cap_value_t cap = 0; cap <= last; cap++) {
                cap_flag_value_t have = CAP_CLEAR;

                if (!(mask & CAP_MASK(cap))) {
                        /* The bounding set first: dropping from it needs CAP_SETPCAP,
                         * which may not stay. */
                        if (prctl(PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0) {
                                r = -errno;
                                goto finish;
                        }
                        continue;
                }

                /* What stage1 itself was not given (a test host, a unit's
                 * CapabilityBoundingSet=) it cannot pass on. */
                if (cap_get_flag(caps, cap, CAP_PERMITTED, &have) < 0) {
                        r = negative_errno();
                        goto finish;
                }
                if (have == CAP_SET)
                        keep[n_keep++] = cap;
        }

        if (cap_reset_ambient() < 0 || cap_clear(caps) < 0) {
                r = negative_errno();
                goto finish;
        }
        if (n_keep > 0 &&
            (cap_set_flag(caps, CAP_EFFECTIVE, (int) n_keep, keep, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_PERMITTED, (int) n_keep, keep, CAP_SET) < 0 ||
             cap_set_flag(caps, CAP_INHERITABLE, (int) n_keep, keep, CAP_SET) < 0)) {
                r = negative_errno();
                goto finish;
        }
        if (cap_set_proc(caps) < 0)
                r = negative_errno();

finish:
        cap_free(caps);
        return r;
}
