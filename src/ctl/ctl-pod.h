/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pod verbs; argv[0] is the verb. Return an exit status, or -errno after logging. */
int verb_list(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_create(int argc, char *argv[]);
int verb_run(int argc, char *argv[]);
int verb_start(int argc, char *argv[]);
int verb_stop(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
int verb_rm(int argc, char *argv[]);
int verb_wait(int argc, char *argv[]);
int verb_logs(int argc, char *argv[]);
