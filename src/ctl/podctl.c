/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <locale.h>
#include <stdio.h>

#include "ctl-exec.h"
#include "ctl-image.h"
#include "ctl-pod.h"
#include "ctl-trust.h"
#include "ctl.h"
#include "log.h"
#include "polkit-agent.h"

void help(void) {
        printf("podctl [OPTIONS...] COMMAND ...\n"
               "\n"
               "Create, run and manage pods with podmachined.\n"
               "\n"
               "Pod Commands:\n"
               "  list                        List pods (alias: ps)\n"
               "  status NAME...              Show pod details\n"
               "  create IMAGE [CMD...]       Create a pod from an image\n"
               "  create --app IMAGE [CMD...] [--app IMAGE [CMD...]]...\n"
               "                              Create a pod of several apps\n"
               "  run IMAGE [CMD...]          Create and start a pod, wait for it unless -d\n"
               "  run --app IMAGE [CMD...] [--app IMAGE [CMD...]]...\n"
               "                              Run a pod of several apps\n"
               "  start NAME...               Start pods\n"
               "  stop NAME...                Stop pods\n"
               "  kill NAME...                Send a signal to pods' processes\n"
               "  rm NAME...                  Remove pods\n"
               "  wait NAME...                Wait until pods ended, print how\n"
               "  exec NAME CMD...            Run a command in a running pod (-t: on a terminal)\n"
               "  shell NAME [CMD...]         Open a shell (or CMD) on a terminal in a running pod\n"
               "  logs NAME                   Show the journal of a pod\n"
               "\n"
               "Image Commands:\n"
               "  image import SOURCE [NAME]  Import a tar archive or a directory tree\n"
               "  image list                  List images (alias: ls)\n"
               "  image rm NAME...            Remove images\n"
               "\n"
               "Trust Commands:\n"
               "  trust add FILE              Trust the minisign public key in FILE\n"
               "  trust list                  List trusted keys (alias: ls)\n"
               "  trust rm NAME|ID...         Remove trusted keys; vendor keys are masked\n"
               "\n"
               "Options:\n"
               "  -h --help                   Show this help\n"
               "     --version                Show package version\n"
               "     --json                   Output list, status, image list and trust list as JSON\n"
               "     --no-legend              Do not show the headers and footers\n"
               "     --no-pager               Do not pipe output into a pager (never done)\n"
               "     --no-ask-password        Do not ask for system passwords\n"
               "  -q --quiet                  Suppress informational messages\n"
               "\n"
               "Create and Run Options:\n"
               "     --name=NAME              Name the pod (default: picked by podmachined)\n"
               "  -e --env=KEY=VALUE          Set an environment variable (repeatable)\n"
               "  -w --workdir=DIR            Working directory of the command in the pod\n"
               "     --memory=BYTES           Memory limit (suffixes K, M, G, T; base 1024)\n"
               "     --cpus=N                 CPU limit as a number of CPUs (e.g. 0.5)\n"
               "     --tasks-max=N            Limit on processes and threads\n"
               "     --io-weight=N            IO weight, 1...10000\n"
               "     --disk-limit=BYTES       What the pod may add to its image (btrfs store)\n"
               "     --rm                     Remove the pod when it has ended\n"
               "  -d --detach                 run: do not wait, print the pod name\n"
               "     --read-only              Mount the pod's root file system read-only\n"
               "     --network=private|host   Network namespace: own with loopback (default) or host's\n"
               "     --private-users=yes|no   Own user namespace and UID range (default: yes)\n"
               "     --caps-add=CAPS          Capabilities on top of the default set (cap_x,cap_y)\n"
               "     --caps-drop=CAPS         Capabilities taken from the default set\n"
               "     --bind=SRC[:DST[:OPTS]]  Bind a host directory or file into the pod (repeatable;\n"
               "                              OPTS: rbind, norbind, rootidmap, idmap, noidmap)\n"
               "     --bind-ro=SRC[:DST[:OPTS]]  The same, read-only\n"
               "     --app=IMAGE              An app of the pod; what follows is its command\n"
               "     --pod-file=FILE          The pod's apps from a JSON pod file\n"
               "     --exit-policy=POLICY     A pod of several apps ends when all (default) or\n"
               "                              any app exited, or on the first failure\n"
               "\n"
               "Kill Options:\n"
               "  -s --signal=SIGNAL          Which signal to send (default: TERM)\n"
               "     --kill-whom=WHOM         Whom to send it to: all or leader (default: all)\n"
               "\n"
               "Logs Options:\n"
               "  -f --follow                 Keep showing new entries until interrupted\n"
               "  -n --lines=N                Show only the last N entries\n"
               "\n"
               "Remove Options:\n"
               "  -f --force                  rm: stop a running pod first;\n"
               "                              image rm: remove an image pods still use\n"
               "\n"
               "Import Options:\n"
               "     --format=FORMAT          SOURCE is a 'tar' file or a 'directory'\n"
               "\n"
               "Exec and Shell Options:\n"
               "  -t --tty                    Run the command on a new terminal of the pod (exec)\n"
               "  -e --env=KEY=VALUE          Set an environment variable (repeatable)\n"
               "  -w --workdir=DIR            Working directory of the command in the pod\n"
               "  -u --user=USER[:GROUP]      Run as this user of the pod (default: the app's)\n"
               "     --app=APP                In a pod of several apps: the app to run in\n"
               "\n"
               "Trust Add Options:\n"
               "     --name=NAME              Name the key (default: its key ID)\n"
               "\n"
               "See the podctl(1) man page for details.\n");
}

static const Verb verbs[] = {
        { "list",   verb_list   },
        { "ps",     verb_list   },
        { "status", verb_status },
        { "create", verb_create },
        { "run",    verb_run    },
        { "start",  verb_start  },
        { "stop",   verb_stop   },
        { "kill",   verb_kill   },
        { "rm",     verb_rm     },
        { "remove", verb_rm     },
        { "wait",   verb_wait   },
        { "exec",   verb_exec   },
        { "shell",  verb_shell  },
        { "logs",   verb_logs   },
        { "image",  verb_image  },
        { "trust",  verb_trust  },
};

static int run(int argc, char *argv[]) {
        static char *default_argv[] = { (char *) "list", NULL };
        int i, r;

        r = parse_options_before_verb(argc, argv, &i);
        if (r <= 0)
                return r;

        /* No verb: list, as machinectl does. */
        if (i >= argc)
                return verb_list(1, default_argv);

        return dispatch_verb(argc - i, argv + i, verbs, ELEMENTSOF(verbs), "");
}

int main(int argc, char *argv[]) {
        int r;

        setlocale(LC_ALL, "");

        r = run(argc, argv);
        polkit_agent_close();

        if (fflush(stdout) != 0 && r >= 0)
                r = log_error_errno(errno, "Failed to write output: %m");

        return r < 0 ? EXIT_FAILURE : r;
}
