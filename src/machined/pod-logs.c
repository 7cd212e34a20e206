/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "pod-logs.h"

/* The length of the UTF-8 sequence at s (at most n bytes), or 0 if it is not one, an
 * overlong one, a surrogate or a C1 control character (a terminal may act on those). */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        uint32_t c;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xE0) == 0xC0) {
                len = 2;
                c = s[0] & 0x1F;
        } else if ((s[0] & 0xF0) == 0xE0) {
                len = 3;
                c = s[0] & 0x0F;
        } else if ((s[0] & 0xF8) == 0xF0) {
                len = 4;
                c = s[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3F);
        }
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF ||
            (c >= 0xD800 && c <= 0xDFFF) || (c >= 0x80 && c <= 0x9F))
                return 0;
        return len;
}

/* Writes s (n bytes) to f with control characters and invalid UTF-8 as \xNN; with indent,
 * a newline is kept and followed by indent spaces. */
static void fput_escaped(FILE *f, const char *s, size_t n, int indent) {
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; i < n;) {
                size_t len;

                if (u[i] == '\n' && indent >= 0) {
                        fprintf(f, "\n%*s", indent, "");
                        i++;
                        continue;
                }
                len = u[i] == '\t' ? 1 : utf8_sequence_length(u + i, n - i);
                if (len == 0 || (len == 1 && u[i] != '\t' && (u[i] < 0x20 || u[i] == 0x7F))) {
                        fprintf(f, "\\x%02x", u[i]);
                        i++;
                        continue;
                }
                fwrite(u + i, 1, len, f);
                i += len;
        }
}

int log_line_format(uint64_t realtime_usec, const char *hostname, const char *identifier, const char *pid,
                    const void *message, size_t size, char **ret) {
        _cleanup_free_ char *buf = NULL;
        char ts[64] = "";
        size_t buf_size = 0;
        struct tm tm;
        time_t t = (time_t) (realtime_usec / 1000000);
        long prefix;
        FILE *f;

        if (!localtime_r(&t, &tm) || strftime(ts, sizeof ts, "%b %d %H:%M:%S", &tm) == 0)
                snprintf(ts, sizeof ts, "@%" PRIu64, realtime_usec / 1000000);

        f = open_memstream(&buf, &buf_size);
        if (!f)
                return -ENOMEM;
        fputs(ts, f);
        if (hostname && *hostname) {
                fputc(' ', f);
                fput_escaped(f, hostname, strlen(hostname), -1);
        }
        if (identifier && *identifier) {
                fputc(' ', f);
                fput_escaped(f, identifier, strlen(identifier), -1);
        }
        if (pid && *pid) {
                fputc('[', f);
                fput_escaped(f, pid, strlen(pid), -1);
                fputc(']', f);
        }
        fputs(": ", f);
        prefix = ftell(f);
        /* The line end is ours. */
        while (size > 0 && ((const char *) message)[size - 1] == '\n')
                size--;
        fput_escaped(f, message, size, prefix > 0 && prefix < 256 ? (int) prefix : 0);
        fputc('\n', f);
        if (ferror(f) || fclose(f) != 0)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        return 0;
}

/* Field "NAME" of the current entry, without "NAME=", as a string of at most max bytes. */
static int journal_get_field(sd_journal *j, const char *field, size_t max, char **ret) {
        const void *data;
        size_t len, flen = strlen(field);
        char *s;
        int r;

        r = sd_journal_get_data(j, field, &data, &len);
        if (r < 0)
                return r;
        if (len < flen + 1)
                return -EBADMSG;
        len = len - flen - 1;
        if (len > max)
                len = max;
        s = strndup((const char *) data + flen + 1, len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int write_entry(sd_journal *j, int fd) {
        _cleanup_free_ char *host = NULL, *ident = NULL, *pid = NULL, *line = NULL;
        const void *data;
        uint64_t t = 0;
        size_t len;
        int r;

        (void) sd_journal_get_realtime_usec(j, &t);
        (void) journal_get_field(j, "_HOSTNAME", 256, &host);
        if (journal_get_field(j, "SYSLOG_IDENTIFIER", 256, &ident) < 0)
                (void) journal_get_field(j, "_COMM", 256, &ident);
        if (journal_get_field(j, "_PID", 32, &pid) < 0)
                (void) journal_get_field(j, "SYSLOG_PID", 32, &pid);

        r = sd_journal_get_data(j, "MESSAGE", &data, &len);
        if (r < 0)
                return 0; /* nothing to show */
        data = (const char *) data + STRLEN("MESSAGE=");
        len -= STRLEN("MESSAGE=");
        if (len > LOG_MESSAGE_MAX)
                len = LOG_MESSAGE_MAX;

        r = log_line_format(t, host, ident, pid, data, len, &line);
        if (r < 0)
                return r;
        return write_all(fd, line, strlen(line));
}

/* What "journalctl -u UNIT" shows: the unit's own output, what systemd and root's daemons
 * say about it, its core dumps. */
static int journal_match_unit(sd_journal *j, const char *unit) {
        _cleanup_free_ char *own = NULL, *about = NULL, *object = NULL, *coredump = NULL;
        int r;

        if (asprintf(&own, "_SYSTEMD_UNIT=%s", unit) < 0 || asprintf(&about, "UNIT=%s", unit) < 0 ||
            asprintf(&object, "OBJECT_SYSTEMD_UNIT=%s", unit) < 0 || asprintf(&coredump, "COREDUMP_UNIT=%s", unit) < 0)
                return -ENOMEM;

        const char *terms[][3] = {
                { own },
                { "_PID=1", about },
                { "_UID=0", object },
                { "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", "_UID=0", coredump },
        };
        for (size_t t = 0; t < ELEMENTSOF(terms); t++) {
                if (t > 0) {
                        r = sd_journal_add_disjunction(j);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < ELEMENTSOF(terms[t]) && terms[t][i]; i++) {
                        r = sd_journal_add_match(j, terms[t][i], 0);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Puts the cursor so that the next sd_journal_next() gives the first entry to show. */
static int journal_seek_start(sd_journal *j, uint64_t since, uint64_t lines) {
        uint64_t n = 0;
        int r;

        if (lines == 0)
                return sd_journal_seek_realtime_usec(j, since);

        r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        while (n < lines) {
                uint64_t t;

                r = sd_journal_previous(j);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (sd_journal_get_realtime_usec(j, &t) >= 0 && t < since)
                        return 0; /* next() moves past it */
                n++;
        }
        if (n == 0)
                return sd_journal_seek_realtime_usec(j, since);
        /* On the first entry to show: step back once more so that next() returns it. */
        r = sd_journal_previous(j);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_journal_seek_head(j);
        return 0;
}

/* Waits for new entries, or for the reader to go. Returns > 0 if there may be entries,
 * 0 if the reader closed its end, or -errno. */
static int journal_wait_or_hangup(sd_journal *j, int fd) {
        struct pollfd p[2];
        uint64_t timeout = UINT64_MAX;
        int jfd, events, ms = -1;

        jfd = sd_journal_get_fd(j);
        if (jfd < 0)
                return jfd;
        events = sd_journal_get_events(j);
        if (events < 0)
                return events;
        if (sd_journal_get_timeout(j, &timeout) >= 0 && timeout != UINT64_MAX) {
                struct timespec now;
                uint64_t n;

                clock_gettime(CLOCK_MONOTONIC, &now);
                n = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
                ms = timeout <= n ? 0 : (int) ((timeout - n + 999) / 1000 > INT_MAX ? INT_MAX : (timeout - n + 999) / 1000);
        }

        /* A pipe's write end polls POLLERR once the read end is closed. */
        p[0] = (struct pollfd) { .fd = jfd, .events = (short) events };
        p[1] = (struct pollfd) { .fd = fd, .events = 0 };
        if (poll(p, 2, ms) < 0)
                return errno == EINTR ? 1 : -errno;
        if (p[1].revents & (POLLERR | POLLHUP))
                return 0;
        return sd_journal_process(j) < 0 ? -EIO : 1;
}

static int log_stream_run(int fd, const char *unit, uint64_t since, uint64_t lines, bool follow) {
        sd_journal *j = NULL;
        int r;

        /* Not SD_JOURNAL_SYSTEM: what the pod's processes log is in the journal files of their
         * UIDs (journald keeps those of UIDs above the system range apart). */
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal: %m");
        (void) sd_journal_set_data_threshold(j, LOG_MESSAGE_MAX);
        r = journal_match_unit(j, unit);
        if (r < 0)
                goto finish;
        /* Before reading, so that nothing written meanwhile is missed. */
        if (follow) {
                r = sd_journal_get_fd(j);
                if (r < 0)
                        goto finish;
        }
        r = journal_seek_start(j, since, lines);
        if (r < 0)
                goto finish;

        for (;;) {
                r = sd_journal_next(j);
                if (r < 0)
                        goto finish;
                if (r > 0) {
                        uint64_t t;

                        if (sd_journal_get_realtime_usec(j, &t) >= 0 && t < since)
                                continue;
                        r = write_entry(j, fd);
                        if (r < 0)
                                goto finish;
                        continue;
                }
                if (!follow)
                        break;
                r = journal_wait_or_hangup(j, fd);
                if (r <= 0)
                        goto finish;
        }
        r = 0;
finish:
        sd_journal_close(j);
        /* The reader going away is how a follow ends. */
        return r == -EPIPE ? 0 : r;
}

_noreturn_ static void log_stream_child(int fd, const char *unit, uint64_t since, uint64_t lines, bool follow, pid_t parent) {
        sigset_t none;
        int r;

        /* A reader that follows must not outlive the daemon, nor the daemon's last reference to the pipe. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(EXIT_FAILURE);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        /* Nothing of the daemon's but the pipe: not its bus connection, not the state tree. */
        if (fd != 3) {
                if (dup2(fd, 3) < 0)
                        _exit(EXIT_FAILURE);
                fd = 3;
        }
        (void) close_range(4, UINT_MAX, 0);

        r = log_stream_run(fd, unit, since, lines, follow);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

LogStream *log_stream_free(LogStream *s) {
        if (!s)
                return NULL;
        if (s->manager) {
                LogStream **i = &s->manager->log_streams;

                while (*i && *i != s)
                        i = &(*i)->next;
                if (*i) {
                        *i = s->next;
                        s->manager->n_log_streams--;
                }
        }
        sd_event_source_unref(s->child);
        free(s);
        return NULL;
}

static int on_log_stream_exited(sd_event_source *source, const siginfo_t *si, void *userdata) {
        LogStream *s = userdata;
        Manager *m = s->manager;

        if (si->si_code != CLD_EXITED || si->si_status != EXIT_SUCCESS)
                log_debug("Log reader %d ended with %s %d.", (int) s->pid,
                          si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        log_stream_free(s);
        manager_check_idle(m);
        return 0;
}

int pod_logs_start(Pod *p, uid_t uid, uint64_t lines, bool follow, int *ret_fd) {
        _cleanup_close_ int read_fd = -EBADF, write_fd = -EBADF;
        Manager *m = p->manager;
        LogStream *s;
        size_t mine = 0;
        pid_t parent = getpid(), pid;
        int fds[2], r;

        if (m->n_log_streams >= LOG_STREAMS_MAX)
                return -EMFILE;
        for (LogStream *i = m->log_streams; i; i = i->next)
                if (i->uid == uid)
                        mine++;
        if (mine >= LOG_STREAMS_PER_USER_MAX)
                return -EUSERS;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(s);
                return -errno;
        }
        read_fd = fds[0];
        write_fd = fds[1];

        pid = fork();
        if (pid < 0) {
                free(s);
                return -errno;
        }
        if (pid == 0)
                log_stream_child(write_fd, p->unit, p->config.created_usec, lines, follow, parent);

        s->uid = uid;
        s->pid = pid;
        r = sd_event_add_child(m->event, &s->child, pid, WEXITED, on_log_stream_exited, s);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                free(s);
                return r;
        }
        s->manager = m;
        s->next = m->log_streams;
        m->log_streams = s;
        m->n_log_streams++;

        *ret_fd = TAKE_FD(read_fd);
        return 0;
}
