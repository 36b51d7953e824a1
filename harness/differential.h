/* Differential mode (`sigharness regress --tool ...`): run another tool over every fixture of the
 * broken-bundle set, read its answers through an adapter (adapter.h) and report every
 * disagreement with the catalogue's expectation at the adapter's level (docs/differential.md). */
#ifndef SH_DIFFERENTIAL_H
#define SH_DIFFERENTIAL_H

#include <stdbool.h>
#include <stdio.h>

#include "adapter.h"
#include "broken_set.h"
#include "regress.h"

typedef struct sh_tool_options {
    const char *tool;         /* a built-in adapter name (harness/adapters/NAME.adapter) */
    const char *adapter_file; /* or an adapter file */
    const char *command;      /* or a bare command template (level activation, exit 0 = accept) */
    int jobs;                 /* parallel invocations */
    const char *results_dir;  /* fixtures, outputs and reports; NULL: ./sigharness-results */
} sh_tool_options;

/* What the tool should have said about one case, at a level. */
typedef struct sh_tool_expectation {
    bool accept;
    int code; /* the errSecCS status a tool naming one should name (0: none expected) */
} sh_tool_expectation;
sh_tool_expectation sh_tool_expect(sh_adapter_level level, const sh_regress_result *r);

/* Returns the exit code of `regress --tool`: 0 no disagreement, 1 disagreements or tool
 * crashes, 2 usage (bad adapter), 3 the set or the results folder could not be made. */
int sh_differential_run(const sh_case_filter *f, const sh_tool_options *t, bool json,
                        const char *junit, FILE *progress);

#endif
