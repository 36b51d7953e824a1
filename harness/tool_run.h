/* Running an external tool on one fixture: /bin/sh -c TEMPLATE with the path as "$1", stdout
 * and stderr captured together (up to SH_TOOL_OUTPUT_MAX bytes, the rest drained and counted),
 * a timeout after which the whole process group is killed, and the way it ended (exit status or
 * signal).  Reentrant: several runs may go on in parallel threads. */
#ifndef SH_TOOL_RUN_H
#define SH_TOOL_RUN_H

#include <stdbool.h>
#include <stddef.h>

#define SH_TOOL_OUTPUT_MAX ((size_t)1 << 20)

typedef struct sh_tool_run {
    bool started;    /* false: fork/exec plumbing failed (why says so) */
    bool exited;     /* true: status is the exit status; false: a signal killed it (also when
                        the shell reports a crash signal of its child as exit 128 + N) */
    int status;      /* exit status or signal number */
    bool timed_out;  /* killed by us after the timeout */
    char *output;    /* NUL-terminated (free()); NULL when not started */
    size_t output_len;
    size_t dropped;  /* bytes beyond SH_TOOL_OUTPUT_MAX */
    char why[128];
} sh_tool_run;

/* template contains {bundle}; it is rewritten to "$1" (quoted) and path is passed as $1, so the
 * path is never parsed by the shell.  env (NULL-terminated "NAME=value" strings, may be NULL) is
 * added to the tool's environment. */
void sh_tool_run_command(const char *template, const char *path, const char *const *env,
                         unsigned timeout_seconds, sh_tool_run *out);
void sh_tool_run_free(sh_tool_run *r);

#endif
