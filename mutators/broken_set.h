/* The broken-bundle set: every catalogue mutator applied to every built-in base bundle it fits
 * (plus each base unmodified), as a stream of cases.  Shared by `fixtures broken`, `regress`
 * and the benchmarks, so they all judge exactly the same bundles. */
#ifndef SH_BROKEN_SET_H
#define SH_BROKEN_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture_build.h"
#include "mutation.h"
#include "pki_keyring.h"
#include "verify_memo.h"

typedef struct sh_case_filter {
    const char *mutator;  /* a name or "a+b"; NULL: every mutator (and the bases themselves) */
    const char *category; /* "network", "endpoint-security", "driver", "camera"; NULL all */
    int development;      /* -1 both variants, 0 Developer ID bases only, 1 Development only */
    const char *spec;     /* fixture spec text (NULL: the built-in one) */
    size_t spec_len;
    const char *pki_dir;  /* NULL: corpus/pki */
} sh_case_filter;

typedef struct sh_case {
    const sh_fx_bundle *spec;    /* the base's spec entry */
    const sh_fx_built *base;     /* the base as built */
    char name[192];              /* "<base>" or "<base>--<mutator>" (a folder name) */
    char mutator[128];           /* "" for the base itself */
    const char *description;     /* the mutator's (or the base's) one line */
    const char *situation;       /* the mutator's situation ("" for a base) */
    bool development;            /* judged under --policy development */
    sh_expectation expected;
    sh_mut_effects effects;
    sh_bundle *bundle;           /* the mutated bundle (the case function may keep a copy) */
} sh_case;

/* Called once per case, in a stable order (bases in spec order, mutators in catalogue order).
 * Return false to stop. */
typedef bool (*sh_case_fn)(void *arg, const sh_case *c);

/* The notarised cdhashes of the bases the spec marks notarised, as notary-list text (one
 * 40-hex cdhash per line); appended to *text (malloc'd; free() it). */
typedef struct sh_case_set {
    sh_fx_spec spec;
    sh_fx_built *bases;
    size_t nbases;
    char *notarized;       /* notary list text of every notarised base */
    size_t notarized_len;
    sh_pki_keyring keys;   /* the test PKI, loaded once for every re-signing mutation */
    sh_verify_memo *memo;  /* for judging the cases: they share most signatures (NULL: none) */
} sh_case_set;

/* Builds the bases the filter selects.  False with why on failure (set freed). */
bool sh_case_set_build(const sh_case_filter *f, sh_case_set *set, char *why, size_t why_size);
void sh_case_set_free(sh_case_set *set);

/* Runs fn over every case of the set the filter selects.  False with why when a mutator cannot
 * be applied (a catalogue bug) or fn stopped. */
bool sh_case_set_each(const sh_case_set *set, const sh_case_filter *f, sh_case_fn fn, void *arg,
                      char *why, size_t why_size);

#endif
