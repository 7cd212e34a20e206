/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "bus-errors.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"
#include "strv.h"

/* polkit's CheckAuthorizationFlags: AllowUserInteraction. */
#define POLKIT_FLAG_ALLOW_USER_INTERACTION 1U

/* Someone may be typing a password: as long as the client waits for an interactive call. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5 * 60 * UINT64_C(1000000))

typedef enum PolkitAnswer {
        POLKIT_PENDING,
        POLKIT_AUTHORIZED,
        POLKIT_DENIED,
        POLKIT_CHALLENGE, /* would have been allowed after authentication the call did not allow */
        POLKIT_ABSENT,
        POLKIT_FAILED,    /* polkit answered an error, in error */
} PolkitAnswer;

struct PolkitQuery {
        PolkitRegistry *registry;
        sd_bus_message *request;
        sd_bus_slot *slot;            /* the CheckAuthorization call, while pending */
        sd_event_source *defer;       /* frees the query once the request was dispatched again */
        char *action;
        char **details;
        bool interactive;
        PolkitAnswer answer;
        sd_bus_error error;
        PolkitQuery *prev, *next;
};

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;

        if (q->registry) {
                if (q->prev)
                        q->prev->next = q->next;
                else
                        q->registry->queries = q->next;
                if (q->next)
                        q->next->prev = q->prev;
                q->registry->n_queries--;
        }
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        sd_bus_message_unref(q->request);
        free(q->action);
        strv_free(q->details);
        sd_bus_error_free(&q->error);
        free(q);
        return NULL;
}

void polkit_registry_done(PolkitRegistry *registry) {
        while (registry->queries)
                polkit_query_free(registry->queries);
}

static PolkitQuery *polkit_registry_find(PolkitRegistry *registry, sd_bus_message *call) {
        for (PolkitQuery *q = registry->queries; q; q = q->next)
                if (q->request == call)
                        return q;
        return NULL;
}

static const char *details_get(const char **details, const char *key) {
        for (const char **d = details; d && d[0] && d[1]; d += 2)
                if (streq(d[0], key))
                        return d[1];
        return NULL;
}

static bool details_equal(char **a, const char **b) {
        size_t n = strv_length(a);

        if (!b)
                return n == 0;
        for (size_t i = 0; i < n; i++)
                if (!b[i] || !streq(a[i], b[i]))
                        return false;
        return !b[n];
}

/* "HEAD to stop pod 'web'TAIL": the verb's last word names the detail that is its object
 * ("stop-pod" and "pod"). */
static int set_refused(sd_bus_error *error, const char *name, const char **details, const char *head,
                       const char *tail_fmt, ...) _printf_(5, 6);
static int set_refused(sd_bus_error *error, const char *name, const char **details, const char *head,
                       const char *tail_fmt, ...) {
        _cleanup_free_ char *tail = NULL, *verb = NULL;
        const char *object = NULL;
        va_list ap;
        char *kind;
        int k;

        va_start(ap, tail_fmt);
        k = vasprintf(&tail, tail_fmt, ap);
        va_end(ap);
        verb = strdup(details_get(details, "verb") ?: "do-this");
        if (k < 0 || !verb)
                return -ENOMEM;
        kind = strrchr(verb, '-');
        if (kind)
                object = details_get(details, kind + 1);
        for (char *c = verb; *c; c++)
                if (*c == '-')
                        *c = ' ';

        return sd_bus_error_setf(error, name, "%s to %s%s%s%s%s", head, verb, object ? " '" : "", object ?: "",
                                 object ? "'" : "", tail);
}

/* "Permission denied to stop pod 'web': WHY". */
#define set_denied(error, details, fmt, ...) \
        set_refused(error, BUS_ERROR_NOT_PERMITTED, details, "Permission denied", ": " fmt, ##__VA_ARGS__)

static int polkit_query_result(PolkitQuery *q, const char *action, const char **details, sd_bus_error *error) {
        /* What was authorized is what the handler asked the first time: if the request
         * reads differently now (the pod changed hands, an image was replaced), the answer
         * is not for it. */
        if (!streq(q->action, action) || !details_equal(q->details, details))
                return set_denied(error, details, "what was asked changed while it was being authorized; try again.");

        switch (q->answer) {
        case POLKIT_AUTHORIZED:
                return 1;
        case POLKIT_CHALLENGE:
                /* The standard error, as systemd's services answer: the caller may try again
                 * allowing interactive authorization. */
                if (!q->interactive)
                        return set_refused(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, details,
                                           "Interactive authentication required", " (%s).", action);
                return set_denied(error, details,
                                  "authentication is required (%s), and no authentication agent could ask for it.",
                                  action);
        case POLKIT_ABSENT:
                return set_denied(error, details, "polkit is not available to authorize %s, so only root may do this.",
                                  action);
        case POLKIT_FAILED:
                return set_denied(error, details, "polkit failed to check %s: %s", action,
                                  q->error.message ?: q->error.name ?: "unknown error");
        case POLKIT_DENIED:
        default:
                return set_denied(error, details, "not authorized (%s).", action);
        }
}

static int on_polkit_defer(sd_event_source *s, void *userdata) {
        /* Idle priority: runs after the request, enqueued again, was dispatched. */
        polkit_query_free(userdata);
        return 0;
}

static bool bus_error_is_no_service(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_NO_SERVER) ||
               startswith(e->name, "org.freedesktop.DBus.Error.Spawn.");
}

static int polkit_query_read_reply(PolkitQuery *q, sd_bus_message *reply) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (bus_error_is_no_service(e)) {
                        q->answer = POLKIT_ABSENT;
                        return 0;
                }
                q->answer = POLKIT_FAILED;
                return sd_bus_error_copy(&q->error, e);
        }

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;

        q->answer = authorized ? POLKIT_AUTHORIZED : challenge ? POLKIT_CHALLENGE : POLKIT_DENIED;
        return 0;
}

static int polkit_query_process_reply(PolkitQuery *q, sd_bus_message *reply) {
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int r;

        q->slot = sd_bus_slot_unref(q->slot);

        r = polkit_query_read_reply(q, reply);
        if (r < 0)
                return r;

        r = sd_event_add_defer(sd_bus_get_event(bus), &q->defer, on_polkit_defer, q);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return r;

        /* The request goes through dispatch again, from its first argument: the handler
         * finds its objects anew and gets the answer from the registry. */
        r = sd_bus_message_rewind(q->request, true);
        if (r < 0)
                return r;
        return sd_bus_enqueue_for_read(bus, q->request);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PolkitQuery *q = userdata;
        int r;

        r = polkit_query_process_reply(q, reply);
        if (r < 0) {
                log_warning_errno(r, "Failed to process polkit's answer for %s: %m", q->action);
                (void) sd_bus_reply_method_errorf(q->request, BUS_ERROR_NOT_PERMITTED,
                                                  "Failed to check authorization for %s: %s", q->action, strerror(-r));
                polkit_query_free(q);
        }
        return 0;
}

static int polkit_new_check_call(sd_bus_message *call, const char *action, const char **details, bool interactive,
                                 sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pk = NULL;
        const char *sender = sd_bus_message_get_sender(call);
        int r;

        if (!sender)
                return -EBADMSG;

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(call), &pk, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        /* The subject is the calling connection, which polkit maps to its process and session. */
        r = sd_bus_message_append(pk, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(pk, 'a', "{ss}");
        if (r < 0)
                return r;
        for (const char **d = details; d && d[0] && d[1]; d += 2) {
                r = sd_bus_message_append(pk, "{ss}", d[0], d[1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(pk);
        if (r < 0)
                return r;
        /* No cancellation id: the call is never cancelled but by its timeout. */
        r = sd_bus_message_append(pk, "us", interactive ? POLKIT_FLAG_ALLOW_USER_INTERACTION : 0U, "");
        if (r < 0)
                return r;

        *ret = TAKE_PTR(pk);
        return 0;
}

int bus_verify_polkit_async_full(sd_bus_message *call, const char *action, const char **details, uid_t good_user,
                                 PolkitRegistry *registry, uid_t *ret_uid, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pk = NULL;
        PolkitQuery *q;
        uid_t uid;
        int interactive, r;

        r = bus_query_caller_uid(call, &uid);
        if (r < 0)
                return set_denied(error, details, "cannot tell who the caller is: %s", strerror(-r));

        /* Dispatched again with polkit's answer. */
        q = polkit_registry_find(registry, call);
        if (q && q->answer != POLKIT_PENDING) {
                r = polkit_query_result(q, action, details, error);
                if (r > 0 && ret_uid)
                        *ret_uid = uid;
                return r;
        }
        if (q)
                return 0; /* still waiting: nothing to do until the answer comes */

        if (uid == 0 || (good_user != (uid_t) -1 && uid == good_user)) {
                if (ret_uid)
                        *ret_uid = uid;
                return 1;
        }

        if (registry->n_queries >= POLKIT_QUERIES_MAX)
                return sd_bus_error_setf(error, BUS_ERROR_LIMIT_EXCEEDED,
                                         "Too many authorization checks at once (at most %d); try again.", POLKIT_QUERIES_MAX);

        interactive = sd_bus_message_get_allow_interactive_authorization(call);
        if (interactive < 0)
                return interactive;

        r = polkit_new_check_call(call, action, details, interactive, &pk);
        if (r < 0)
                return r;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->request = sd_bus_message_ref(call);
        q->interactive = interactive;
        q->action = strdup(action);
        q->details = strv_copy((char **) details);
        if (!q->action || (details && !q->details)) {
                polkit_query_free(q);
                return -ENOMEM;
        }

        r = sd_bus_call_async(sd_bus_message_get_bus(call), &q->slot, pk, on_polkit_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }

        q->registry = registry;
        q->next = registry->queries;
        if (q->next)
                q->next->prev = q;
        registry->queries = q;
        registry->n_queries++;
        return 0;
}
