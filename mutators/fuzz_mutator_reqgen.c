/* Requirement programs for re-signing (`codesign -r`): the designated requirement is sealed in
 * slot 2 and covered by the CMS, so byte mutation cannot change it without failing the hash
 * checks first.  A developer who writes an explicit requirement, or a tool that writes a
 * default one for another identity, produces the shapes generated here: Apple's default
 * designated requirements with one clause changed, and small and/or/not trees of the clauses
 * Security's grammar has, filled with the code's own identifier, team and leaf CN most of the
 * time (so the clause holds and evaluation goes on) and near misses otherwise.  Undecidable
 * clauses (info[], trusted certificates, timestamps, policies, legacy) are included so the
 * evaluator's skip paths run.  Every text compiles (tests/test_fuzz_mutator.c checks it). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_mutator_internal.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define REQ_MAX_DEPTH 3u /* nesting of and/or/not: SH_MAX_REQUIREMENT_DEPTH is far above */

typedef struct text {
    char *p;
    size_t n, cap;
    bool ok;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (!t->ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->n)
        t->ok = false;
    else
        t->n += (size_t)w;
}

/* A string operand for the code's value v: itself (quoted), a wildcard match that holds or
 * misses, or an ordering comparison.  Values with quotes or backslashes are replaced. */
static void string_match(text *t, const char *v, sh_fm_rng *rng)
{
    if (!v || !*v || strpbrk(v, "\"\\*"))
        v = "SHTEAM0001";
    size_t n = strlen(v), half = n / 2 ? n / 2 : 1;
    switch (sh_fm_rng_below(rng, 10)) {
    case 0: put(t, " = \"%.*s*\"", (int)half, v); break;             /* begins with */
    case 1: put(t, " = \"*%s\"", v + n - half); break;                 /* ends with */
    case 2: put(t, " ~ \"%.*s\"", (int)half, v + (n - half) / 2); break; /* contains */
    case 3: put(t, " %s \"%s\"", sh_fm_rng_percent(rng, 50) ? "<" : ">=", v); break;
    case 4: put(t, " %s \"%s\"", sh_fm_rng_percent(rng, 50) ? "<=" : ">", v); break;
    case 5: put(t, " exists"); break;
    case 6: put(t, " absent"); break;
    case 7: put(t, " = \"%sX\"", v); break; /* near miss */
    default: put(t, " = \"%s\"", v); break;
    }
}

static const char *const cert_slots[] = {"leaf", "1", "2", "root", "5"};

/* Apple's marker OIDs (1.2.840.113635.100.6.1.n: leaf, 6.2.n: intermediate). */
static const char *const markers[] = {
    "6.1.13", "6.1.12", "6.1.2", "6.1.1", "6.1.9", "6.2.6", "6.2.1", "6.2.3", "6.1.33",
};

static const char *const entitlement_keys[] = {
    "com.apple.security.app-sandbox", "com.apple.developer.team-identifier",
    "com.apple.application-identifier", "com.apple.security.get-task-allow",
    "com.apple.developer.system-extension.install", "com.apple.security.application-groups",
    "com.apple.developer.networking.networkextension",
};

static void clause(text *t, const sh_fm_req_facts *f, sh_fm_rng *rng)
{
    const char *slot = cert_slots[sh_fm_rng_below(rng, COUNT_OF(cert_slots))];
    switch (sh_fm_rng_below(rng, 20)) {
    case 0:
    case 1:
        put(t, "identifier \"%s%s\"", f->identifier,
            sh_fm_rng_percent(rng, 15) ? ".other" : "");
        break;
    case 2: put(t, "anchor apple generic"); break;
    case 3: put(t, "anchor apple"); break;
    case 4: put(t, "anchor trusted"); break;
    case 5:
    case 6:
        put(t, "certificate %s[subject.OU]", sh_fm_rng_percent(rng, 70) ? "leaf" : slot);
        string_match(t, f->team, rng);
        break;
    case 7:
        put(t, "certificate %s[subject.CN]", sh_fm_rng_percent(rng, 60) ? "leaf" : slot);
        string_match(t, f->leaf_cn, rng);
        break;
    case 8:
    case 9:
        put(t, "certificate %s[field.1.2.840.113635.100.%s] %s", slot,
            markers[sh_fm_rng_below(rng, COUNT_OF(markers))],
            sh_fm_rng_percent(rng, 75) ? "exists" : "absent");
        break;
    case 10:
        put(t, "certificate %s[subject.O] = \"Apple Inc.\"", slot); /* a field not evaluated */
        break;
    case 11:
        put(t, "entitlement[\"%s\"]",
            entitlement_keys[sh_fm_rng_below(rng, COUNT_OF(entitlement_keys))]);
        if (sh_fm_rng_percent(rng, 50))
            put(t, sh_fm_rng_percent(rng, 70) ? " exists" : " absent");
        else
            string_match(t, f->team, rng);
        break;
    case 12: {
        /* cdhash of another build: never this code's, so the clause fails */
        put(t, "cdhash H\"");
        for (unsigned i = 0; i < 20; i++)
            put(t, "%02x", (unsigned)sh_fm_rng_below(rng, 256));
        put(t, "\"");
        break;
    }
    case 13: put(t, "platform = %u", (unsigned)sh_fm_rng_below(rng, 4)); break;
    case 14: put(t, "notarized"); break;
    case 15: put(t, "info[CFBundleVersion] >= \"1.0\""); break;
    case 16: put(t, "certificate %s trusted", slot); break;
    case 17:
        put(t, "certificate leaf[timestamp.1.2.840.113635.100.6.1.33] < "
               "<2019-01-01 00:00:00 +0000>");
        break;
    case 18: put(t, "certificate root[policy.1.2.840.113635.100.5.1] exists"); break;
    default: put(t, sh_fm_rng_percent(rng, 50) ? "legacy" : "always"); break;
    }
}

static void expr(text *t, const sh_fm_req_facts *f, sh_fm_rng *rng, unsigned depth)
{
    uint64_t roll = depth >= REQ_MAX_DEPTH ? 0 : sh_fm_rng_below(rng, 10);
    if (roll < 5) {
        clause(t, f, rng);
    } else if (roll < 6) {
        put(t, "! ");
        expr(t, f, rng, depth + 1);
    } else {
        put(t, "(");
        expr(t, f, rng, depth + 1);
        put(t, roll < 9 ? " and " : " or ");
        expr(t, f, rng, depth + 1);
        put(t, ")");
    }
}

/* Apple's default designated requirement for the identity kind with one clause changed or
 * appended: the near misses a re-signing tool produces. */
static void default_shape(text *t, const sh_fm_req_facts *f, sh_fm_rng *rng)
{
    bool devid = sh_fm_rng_percent(rng, 50);
    put(t, "identifier \"%s\" and anchor apple generic and ", f->identifier);
    if (devid) {
        put(t, "certificate 1[field.1.2.840.113635.100.6.2.6] exists and "
               "certificate leaf[field.1.2.840.113635.100.6.1.13] exists and "
               "certificate leaf[subject.OU]");
        string_match(t, f->team, rng);
    } else {
        put(t, "certificate leaf[subject.CN]");
        string_match(t, f->leaf_cn, rng);
        put(t, " and certificate 1[field.1.2.840.113635.100.6.2.1] exists");
    }
    if (sh_fm_rng_percent(rng, 50)) {
        put(t, sh_fm_rng_percent(rng, 70) ? " and " : " or ");
        clause(t, f, rng);
    }
}

bool sh_fm_requirement_text(sh_fm_rng *rng, const sh_fm_req_facts *f, char *buf, size_t size)
{
    text t = {buf, 0, size, size > 0};
    sh_fm_req_facts safe = *f;
    if (!safe.identifier || strpbrk(safe.identifier, "\"\\") || !*safe.identifier)
        safe.identifier = "com.example.app";
    put(&t, "designated => ");
    if (sh_fm_rng_percent(rng, 40))
        default_shape(&t, &safe, rng);
    else
        expr(&t, &safe, rng, 0);
    /* other requirement types a set may hold (only the designated one is evaluated) */
    if (sh_fm_rng_percent(rng, 15)) {
        static const char *const types[] = {"library", "host", "guest", "plugin"};
        put(&t, " %s => ", types[sh_fm_rng_below(rng, COUNT_OF(types))]);
        expr(&t, &safe, rng, REQ_MAX_DEPTH - 1);
    }
    return t.ok;
}
