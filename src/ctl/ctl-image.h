/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "podctl image VERB ..."; argv[0] is "image". */
int verb_image(int argc, char *argv[]);
