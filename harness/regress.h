/* `sigharness regress`: judge every case of the broken-bundle set (mutators/broken_set.h) with
 * the verdict engine and compare with the catalogue's declared expectation.
 *
 * Each case is judged under its base's policy (Developer ID bases: distribution; Development
 * bases: development), with the test root standing in for Apple's, at a fixed "now", the
 * Development profile's Mac UDID, the mutation's install location, and a notary list of the
 * notarised bases adjusted by the mutation's notary effect (revoked, or resubmitted: the new
 * cdhashes are notarised when the verdict's notary preflight has nothing to object). */
#ifndef SH_REGRESS_H
#define SH_REGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "broken_set.h"
#include "json.h"
#include "verdict.h"

#define SH_REGRESS_JSON_SCHEMA "sigharness.regress/1"
#define SH_REGRESS_NOW (SH_FX_SIGNING_TIME + 86400) /* the day after the fixtures were signed */

/* What the verdict engine said, in the expectation's terms. */
typedef struct sh_observed {
    int sysext, errsec, static_errsec;
    bool app_killed;
    char notary[160];  /* the first notary preflight message ("" none) */
    size_t nnotary;
    char launch[160];
    bool notarized;    /* every code of the bundle is notarised (ticket or list) */
    const char *static_rule;   /* rules.def name behind static_errsec (NULL none) */
    const char *deciding_rule; /* rules.def name of the deciding finding (NULL: OK) */
} sh_observed;

typedef struct sh_regress_result {
    char name[192];
    char mutator[128];
    char base[64];
    char category[32];
    const char *policy;  /* "distribution" / "development" */
    sh_expectation expected;
    sh_observed observed;
    bool pass;
    char mismatch[256];  /* what differs ("" when pass) */
    double seconds;      /* time spent judging */
    char *notary_list;   /* the notary list the case was judged with (malloc'd text) */
} sh_regress_result;

typedef struct sh_regress_report {
    sh_regress_result *results;
    size_t count, cap;
    size_t failures;
    double seconds;
} sh_regress_report;

/* The notary list (text) case c is judged with; malloc'd, NULL with why on failure.  A
 * resubmitted Developer ID case that expects no notary objection adds every cdhash of its code
 * (each slice, each hash type). */
char *sh_regress_notary_list(const sh_case_set *set, const sh_case *c, char *why, size_t why_size);
/* "distribution" or "development": the policy case c is judged under. */
const char *sh_regress_policy_name(const sh_case *c);
/* Judges one mutated bundle (the notary list text is the set's; the case's effects apply). */
bool sh_regress_judge(const sh_case_set *set, const sh_case *c, sh_regress_result *out,
                      char *why, size_t why_size);

/* Builds the set the filter selects and judges every case; progress (may be NULL) gets a
 * "\r[i/n] name" line per case.  False with why when the set cannot be built or a mutator fails. */
bool sh_regress_run(const sh_case_filter *f, FILE *progress, sh_regress_report *out, char *why,
                    size_t why_size);
void sh_regress_report_free(sh_regress_report *r);

void sh_regress_print_table(const sh_regress_report *r, FILE *out);
void sh_regress_print_json(const sh_regress_report *r, FILE *out);
void sh_regress_print_junit(const sh_regress_report *r, FILE *out);

/* A catalogue expectation as a JSON object under key (`mutators --json`, the broken-set
 * manifest): activation_ok, sysext (+ name), errsec (+ name), static_errsec, app_killed, notary,
 * launch. */
void sh_expectation_print_json(sh_json *j, const char *key, const sh_expectation *e);

#endif
