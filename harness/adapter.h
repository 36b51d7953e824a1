/* Tool adapters: how to run another signing tool (codesign, spctl, rcodesign, ldid, an in-house
 * checker) on a fixture and read its answer (docs/differential.md).
 *
 * An adapter file is text, one "key value" per line, '#' comments:
 *   name         codesign
 *   command      codesign --verify --deep --strict -vvvv {bundle}
 *   level        static          which verdict the tool judges (sh_adapter_level)
 *   timeout      120             seconds per invocation (default 120)
 *   accept-exit  0               exit statuses meaning "accepted" (list; default 0)
 *   accept       valid on disk   POSIX extended regex: an output line matching it means accepted
 *   reject       invalid         ... means rejected (reject patterns win over accept patterns)
 *   code         (-6[0-9]{4})    regex whose first group (or whole match) is an errSecCS number
 *   map          -67030 invalid Info.plist    output matching the regex after the number
 *                                             means that errSecCS status
 * Decision: a signal or a timeout is reported as such (a crash of the tool is a finding of its
 * own); otherwise a reject pattern match rejects, else an accept pattern match accepts, else the
 * exit status decides.  {bundle} is replaced by the path, passed to /bin/sh as "$1" (never
 * spliced into the command text), so any path is safe.
 *
 * The file is untrusted text: bounded (SH_MAX_ADAPTER_*), every error names its line. */
#ifndef SH_ADAPTER_H
#define SH_ADAPTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SH_MAX_ADAPTER_SIZE 65536u     /* bytes in one adapter file */
#define SH_MAX_ADAPTER_LINE 4096u      /* bytes in one line */
#define SH_MAX_ADAPTER_PATTERNS 32u    /* accept + reject + map patterns */
#define SH_MAX_ADAPTER_EXITS 32u       /* accept-exit values */
#define SH_MAX_ADAPTER_TIMEOUT 3600u   /* seconds */
#define SH_ADAPTER_WHY_MAX 256u

typedef enum sh_adapter_level {
    SH_ADAPTER_LEVEL_STATIC = 0,  /* static code validation only (codesign --verify) */
    SH_ADAPTER_LEVEL_GATEKEEPER,  /* static + Developer ID + notarisation (spctl --assess) */
    SH_ADAPTER_LEVEL_NOTARY,      /* the notary service's checks (syspolicy_check distribution) */
    SH_ADAPTER_LEVEL_ACTIVATION,  /* the whole activation verdict (sigharness verify) */
} sh_adapter_level;
const char *sh_adapter_level_name(sh_adapter_level l); /* "static", ... */

typedef struct sh_adapter_map {
    int code;
    regex_t re;
} sh_adapter_map;

typedef struct sh_adapter {
    char name[64];
    char command[SH_MAX_ADAPTER_LINE];
    sh_adapter_level level;
    unsigned timeout;
    int accept_exits[SH_MAX_ADAPTER_EXITS];
    size_t naccept_exits;
    regex_t accept[SH_MAX_ADAPTER_PATTERNS];
    size_t naccept;
    regex_t reject[SH_MAX_ADAPTER_PATTERNS];
    size_t nreject;
    bool has_code;
    regex_t code;
    sh_adapter_map maps[SH_MAX_ADAPTER_PATTERNS];
    size_t nmaps;
} sh_adapter;

/* Parses adapter text.  On failure returns false and writes "line N: why" into why; *out is
 * then empty (safe to free).  Required keys: name, command (containing {bundle}). */
bool sh_adapter_parse(const char *text, size_t len, sh_adapter *out, char *why, size_t why_size);
void sh_adapter_free(sh_adapter *a);

typedef enum sh_tool_outcome {
    SH_TOOL_ACCEPTED = 0,
    SH_TOOL_REJECTED,
    SH_TOOL_CRASHED,   /* killed by a signal: a bug in the tool */
    SH_TOOL_TIMED_OUT,
    SH_TOOL_NOT_RUN,   /* could not be started */
} sh_tool_outcome;
const char *sh_tool_outcome_name(sh_tool_outcome o); /* "accepted", ... */

/* Interprets one finished run: exit status (or signal), and its output. */
typedef struct sh_tool_answer {
    sh_tool_outcome outcome;
    int exit_status; /* when it exited */
    int signal;      /* when it was killed */
    int code;        /* the errSecCS status it named; 0 when none */
} sh_tool_answer;
void sh_adapter_judge(const sh_adapter *a, bool exited, int status_or_signal, bool timed_out,
                      const char *output, sh_tool_answer *out);

#endif
