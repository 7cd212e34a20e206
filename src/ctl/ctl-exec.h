/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* podctl exec [-t] [-e KEY=VALUE] [-w DIR] [--app=APP] NAME COMMAND [ARG...] */
int verb_exec(int argc, char *argv[]);
/* podctl shell [-e KEY=VALUE] [-w DIR] [--app=APP] NAME [COMMAND [ARG...]] */
int verb_shell(int argc, char *argv[]);
