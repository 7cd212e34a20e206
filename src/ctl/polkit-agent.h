/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The text agent of polkit, which asks for a password on the terminal when an action
 * needs authentication, as systemctl runs it. */
#define POLKIT_AGENT_PATH "/usr/bin/pkttyagent"

/* Starts the agent if stdin is a terminal and the caller is not root (root is never
 * asked), and returns once it is registered with polkit. Without an agent to run, or if it
 * fails, calls just go on without one (polkit then uses the desktop's agent, or denies). */
void polkit_agent_open(void);

/* Stops the agent, if one runs. */
void polkit_agent_close(void);
