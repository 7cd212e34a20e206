/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "podctl trust VERB ..."; argv[0] is "trust". */
int verb_trust(int argc, char *argv[]);
