/* The designated-requirement evaluator (harness/reqeval.h): every operator it decides, true and
 * false, the operators it cannot decide (reported, evaluating as false), and the structural
 * limits.  Requirements are compiled by the project's compiler (parsers/requirement.h) or, for
 * shapes the compiler will not write, assembled here opcode by opcode.  Chains are verified by
 * sh_chain_verify from the test PKI in corpus/pki (Developer ID team 1 under the test root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cert.h"
#include "entitlements.h"
#include "pki.h"
#include "reqeval.h"
#include "requirement.h"

#define T_EVAL 1704067200 /* 2024-01-01: inside the test PKI's validity */
#define IDENT "com.example.app"

static const char ents_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
    "<key>com.apple.security.app-sandbox</key><true/>"
    "<key>com.example.mode</key><string>camera-pro</string>"
    "</dict></plist>\n";

typedef struct fixture {
    sh_pki_identity devid, dev;
    sh_chain devid_chain, dev_chain;
    sh_entitlements ents;
    uint8_t cdhash[32];
} fixture;

static void verify_chain(const sh_pki_identity *id, sh_chain *out)
{
    STACK_OF(X509) *pool = sk_X509_new_null();
    assert_non_null(pool);
    assert_true(sk_X509_push(pool, id->intermediate) > 0);
    X509 *anchors[1] = {id->root};
    sh_trust trust = {0};
    trust.anchor_x509 = anchors;
    trust.n_anchor_x509 = 1;
    sh_anchor_set set;
    sh_error err = {0};
    assert_int_equal(sh_anchor_set_init(&set, NULL, &trust, NULL, 0, &err), SH_E_OK);
    assert_int_equal(sh_chain_verify(id->leaf, pool, &set, SH_CHAIN_CODE_SIGNING, T_EVAL, true, 0,
                                     out, &err),
                     SH_E_OK);
    assert_true(out->verified);
    assert_int_equal(out->anchor, SH_ANCHOR_CALLER);
    assert_int_equal(out->length, 3);
    sh_anchor_set_free(&set);
    sk_X509_free(pool);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char why[SH_PKI_WHY_MAX];
    if (!f || !sh_pki_load_identity(NULL, "devid-team1", &f->devid, why, sizeof why) ||
        !sh_pki_load_identity(NULL, "dev-team1", &f->dev, why, sizeof why))
        return -1;
    verify_chain(&f->devid, &f->devid_chain);
    verify_chain(&f->dev, &f->dev_chain);
    sh_cursor x = sh_cursor_make((const uint8_t *)ents_xml, strlen(ents_xml));
    if (sh_entitlements_parse_xml(&x, NULL, &f->ents, NULL, NULL) != SH_E_OK)
        return -1;
    for (size_t i = 0; i < sizeof f->cdhash; i++)
        f->cdhash[i] = (uint8_t)(0xa0 + i);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sh_pki_identity_free(&f->devid);
    sh_pki_identity_free(&f->dev);
    sh_entitlements_free(&f->ents);
    free(f);
    return 0;
}

/* Developer ID code: the chain anchored at the test root standing in for Apple's. */
static sh_req_subject devid_subject(const fixture *f)
{
    sh_req_subject s = {0};
    s.identifier = IDENT;
    s.cdhash = f->cdhash;
    s.cdhash_len = sizeof f->cdhash;
    s.chain = &f->devid_chain;
    s.caller_root_is_apple = true;
    s.entitlements = &f->ents.root;
    s.platform = 0;
    return s;
}

/* Evaluates text (which must compile) and returns whether it is satisfied; *r is the result. */
static bool eval_r(const char *text, const sh_req_subject *s, sh_req_result *r)
{
    sh_error err = {0};
    sh_err e = sh_req_evaluate_text(text, s, r, &err);
    if (e != SH_E_OK)
        fail_msg("%s: %s", text, sh_err_name(e));
    return r->satisfied;
}

/* Decided: satisfied or not, with nothing unsupported. */
static bool eval_decided(const char *text, const sh_req_subject *s)
{
    sh_req_result r;
    bool sat = eval_r(text, s, &r);
    if (r.has_unsupported)
        fail_msg("%s: unexpectedly undecidable (op %u)", text, (unsigned)r.unsupported_op);
    return sat;
}

static void test_constants_and_identifier(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    assert_true(eval_decided("true", &s));
    assert_true(eval_decided("always", &s));
    assert_false(eval_decided("false", &s));
    assert_false(eval_decided("never", &s));
    assert_true(eval_decided("identifier \"" IDENT "\"", &s));
    assert_true(eval_decided("identifier = " IDENT, &s));
    assert_false(eval_decided("identifier \"com.example.other\"", &s));
    assert_false(eval_decided("identifier \"com.example.ap\"", &s)); /* a prefix is not a match */
    s.identifier = NULL;
    assert_false(eval_decided("identifier \"" IDENT "\"", &s));
}

static void test_and_or_not(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    assert_true(eval_decided("true and true", &s));
    assert_false(eval_decided("true and false", &s));
    assert_false(eval_decided("false and true", &s));
    assert_true(eval_decided("false or true", &s));
    assert_true(eval_decided("true or false", &s));
    assert_false(eval_decided("false or false", &s));
    assert_true(eval_decided("! false", &s));
    assert_false(eval_decided("! true", &s));
    assert_true(eval_decided("not (false or false)", &s));
    /* precedence: and binds tighter than or */
    assert_true(eval_decided("true or false and false", &s));
    assert_false(eval_decided("(true or false) and false", &s));
}

static void test_cdhash(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    /* Security compares the first 20 bytes of the cdhash */
    const char *yes = "cdhash H\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3\"";
    const char *no = "cdhash H\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b4\"";
    assert_true(eval_decided(yes, &s));
    assert_false(eval_decided(no, &s));
    /* the full 32 bytes are not what is compared */
    assert_false(eval_decided("cdhash H\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babb"
                              "bcbdbebf\"",
                              &s));
    s.cdhash = NULL;
    s.cdhash_len = 0;
    assert_false(eval_decided(yes, &s));
}

static void test_anchor_apple(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    assert_true(eval_decided("anchor apple generic", &s));
    /* "anchor apple" is Apple's own code: the leaf needs marker 6.1.1 */
    assert_false(eval_decided("anchor apple", &s));
    s.caller_root_is_apple = false; /* the test root is just a caller root now */
    assert_false(eval_decided("anchor apple generic", &s));
    s.caller_root_is_apple = true;
    s.chain = NULL; /* ad hoc */
    assert_false(eval_decided("anchor apple generic", &s));
    /* a chain that did not verify does not count */
    sh_chain broken = f->devid_chain;
    broken.verified = false;
    s.chain = &broken;
    assert_false(eval_decided("anchor apple generic", &s));
}

static void test_certificate_subject(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    assert_true(eval_decided("certificate leaf[subject.OU] = SHTEAM0001", &s));
    assert_false(eval_decided("certificate leaf[subject.OU] = SHTEAM0002", &s));
    assert_true(eval_decided("certificate leaf[subject.CN] = \"Developer ID Application: "
                             "Sigharness Test One (SHTEAM0001)\"",
                             &s));
    assert_true(eval_decided("certificate leaf[subject.CN] = \"Developer ID Application:\"*", &s));
    assert_false(eval_decided("certificate leaf[subject.CN] = \"Apple Development:\"*", &s));
    assert_true(eval_decided("certificate leaf[subject.CN] = *\"(SHTEAM0001)\"", &s));
    assert_false(eval_decided("certificate leaf[subject.CN] = *\"(SHTEAM0002)\"", &s));
    assert_true(eval_decided("certificate leaf[subject.CN] ~ \"Test One\"", &s));
    assert_false(eval_decided("certificate leaf[subject.CN] ~ \"Test Two\"", &s));
    assert_true(eval_decided("certificate leaf[subject.CN] = *\"Test One\"*", &s));
    /* a '*' inside the quotes is a literal character, not a wildcard */
    assert_false(eval_decided("certificate leaf[subject.CN] = \"Developer ID*\"", &s));
    /* orderings compare bytes */
    assert_true(eval_decided("certificate leaf[subject.OU] < SHTEAM0002", &s));
    assert_false(eval_decided("certificate leaf[subject.OU] < SHTEAM0001", &s));
    assert_true(eval_decided("certificate leaf[subject.OU] <= SHTEAM0001", &s));
    assert_true(eval_decided("certificate leaf[subject.OU] > SHTEAM0000", &s));
    assert_false(eval_decided("certificate leaf[subject.OU] > SHTEAM00010", &s));
    assert_true(eval_decided("certificate leaf[subject.OU] >= SHTEAM0001", &s));
    assert_true(eval_decided("certificate leaf[subject.OU] exists", &s));
    assert_false(eval_decided("certificate leaf[subject.OU] absent", &s));
    /* intermediate (1) and anchor (root, -1) */
    assert_true(eval_decided("certificate 1[subject.CN] = \"Developer ID Certification "
                             "Authority\"",
                             &s));
    assert_true(eval_decided("certificate root[subject.CN] = \"Sigharness Test Root CA\"", &s));
    assert_true(eval_decided("anchor[subject.CN] = \"Sigharness Test Root CA\"", &s));
    assert_true(eval_decided("certificate root[subject.OU] = \"Sigharness Test Certification "
                             "Authority\"",
                             &s));
    assert_false(eval_decided("certificate root[subject.OU] = SHTEAM0001", &s));
    /* past the chain: nothing there */
    assert_false(eval_decided("certificate 5[subject.CN] exists", &s));
    assert_true(eval_decided("certificate 5[subject.CN] absent", &s));
    s.chain = NULL;
    assert_false(eval_decided("certificate leaf[subject.OU] = SHTEAM0001", &s));
}

static void test_certificate_markers(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    /* codesign's Developer ID designated requirement, shape for shape */
    const char *dr = "anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] "
                     "exists and certificate leaf[field.1.2.840.113635.100.6.1.13] exists and "
                     "certificate leaf[subject.OU] = SHTEAM0001";
    assert_true(eval_decided(dr, &s));
    assert_false(eval_decided("certificate leaf[field.1.2.840.113635.100.6.1.12] exists", &s));
    assert_true(eval_decided("certificate leaf[field.1.2.840.113635.100.6.1.12] absent", &s));
    assert_false(eval_decided("certificate 1[field.1.2.840.113635.100.6.2.1] exists", &s));
    /* Apple Development: 6.1.2 + 6.1.12 under a 2.1 (WWDR) CA, not Developer ID */
    s.chain = &f->dev_chain;
    assert_false(eval_decided(dr, &s));
    assert_true(eval_decided("certificate leaf[field.1.2.840.113635.100.6.1.12] exists and "
                             "certificate 1[field.1.2.840.113635.100.6.2.1] exists",
                             &s));
}

static void test_entitlement_platform_notarized(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    assert_true(eval_decided("entitlement[\"com.apple.security.app-sandbox\"] exists", &s));
    assert_false(eval_decided("entitlement[\"com.apple.security.app-sandbox\"] absent", &s));
    assert_false(eval_decided("entitlement[\"com.example.none\"] exists", &s));
    assert_true(eval_decided("entitlement[\"com.example.none\"] absent", &s));
    assert_true(eval_decided("entitlement[\"com.example.mode\"] = \"camera-pro\"", &s));
    assert_false(eval_decided("entitlement[\"com.example.mode\"] = \"camera\"", &s));
    assert_true(eval_decided("entitlement[\"com.example.mode\"] = \"camera\"*", &s));
    assert_false(eval_decided("entitlement[\"com.example.none\"] = \"x\"", &s));
    s.entitlements = NULL;
    assert_false(eval_decided("entitlement[\"com.apple.security.app-sandbox\"] exists", &s));

    assert_true(eval_decided("platform 0", &s));
    assert_false(eval_decided("platform 1", &s));
    s.platform = 1;
    assert_true(eval_decided("platform = 1", &s));

    assert_false(eval_decided("notarized", &s));
    s.notarized = true;
    assert_true(eval_decided("notarized", &s));
    assert_true(eval_decided("anchor apple generic and notarized", &s));
}

/* Undecidable ops evaluate as false and name themselves; the first one is kept. */
static void expect_unsupported(const char *text, const sh_req_subject *s, uint32_t op, bool sat)
{
    sh_req_result r;
    bool got = eval_r(text, s, &r);
    if (!r.has_unsupported || r.unsupported_op != op || got != sat)
        fail_msg("%s: has_unsupported %d op %u satisfied %d (want op %u satisfied %d)", text,
                 r.has_unsupported, (unsigned)r.unsupported_op, got, (unsigned)op, sat);
}

static void test_unsupported(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    expect_unsupported("info[CFBundleVersion] = \"1\"", &s, SH_REQ_OP_INFO_KEY_FIELD, false);
    expect_unsupported("info[CFBundleVersion] exists", &s, SH_REQ_OP_INFO_KEY_FIELD, false);
    expect_unsupported("legacy info[CFBundleVersion] = \"1\"", &s, SH_REQ_OP_INFO_KEY_VALUE,
                       false);
    expect_unsupported("anchor H\"0123456789abcdef0123456789abcdef01234567\"", &s,
                       SH_REQ_OP_ANCHOR_HASH, false);
    expect_unsupported("anchor trusted", &s, SH_REQ_OP_TRUSTED_CERTS, false);
    expect_unsupported("certificate leaf trusted", &s, SH_REQ_OP_TRUSTED_CERT, false);
    expect_unsupported("anchor apple \"Some Anchor\"", &s, SH_REQ_OP_NAMED_ANCHOR, false);
    expect_unsupported("(\"com.example.named\")", &s, SH_REQ_OP_NAMED_CODE, false);
    expect_unsupported("legacy", &s, SH_REQ_OP_LEGACY_DEVID, false);
    expect_unsupported("certificate leaf[policy.1.2.840.113635.100.5.1] exists", &s,
                       SH_REQ_OP_CERT_POLICY, false);
    expect_unsupported("certificate leaf[timestamp.1.2.840.113635.100.6.1.33] exists", &s,
                       SH_REQ_OP_CERT_FIELD_DATE, false);
    /* certificate fields other than subject.CN / subject.OU, OIDs other than Apple's markers,
     * markers with a value match */
    expect_unsupported("certificate leaf[subject.O] = \"Sigharness\"", &s, SH_REQ_OP_CERT_FIELD,
                       false);
    expect_unsupported("certificate leaf[field.1.2.3.4] exists", &s, SH_REQ_OP_CERT_GENERIC,
                       false);
    expect_unsupported("certificate leaf[field.1.2.840.113635.100.6.1.13] = \"x\"", &s,
                       SH_REQ_OP_CERT_GENERIC, false);
    /* an entitlement whose value is not a string cannot be matched against one */
    expect_unsupported("entitlement[\"com.apple.security.app-sandbox\"] = \"true\"", &s,
                       SH_REQ_OP_ENTITLEMENT_FIELD, false);
    /* evaluation goes on past an undecidable op: "false" under not is true, and the op that
     * made it so is still named (a verdict must not trust this true) */
    expect_unsupported("! info[CFBundleVersion] = \"1\"", &s, SH_REQ_OP_INFO_KEY_FIELD, true);
    expect_unsupported("info[A] exists or identifier \"" IDENT "\"", &s, SH_REQ_OP_INFO_KEY_FIELD,
                       true);
    /* the first undecidable op is the one named */
    expect_unsupported("anchor trusted or info[A] exists", &s, SH_REQ_OP_TRUSTED_CERTS, false);
}

/* ---- hand-assembled programs ---- */

typedef struct prog {
    uint8_t *p;
    size_t len, cap;
} prog;

static void put32(prog *g, uint32_t v)
{
    if (g->len + 4 > g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->p = realloc(g->p, g->cap);
        assert_non_null(g->p);
    }
    for (int i = 0; i < 4; i++)
        g->p[g->len++] = (uint8_t)(v >> (24 - 8 * i));
}

/* Header {magic, length, kind}, filled in by finish. */
static void start(prog *g)
{
    memset(g, 0, sizeof *g);
    put32(g, SH_REQ_MAGIC);
    put32(g, 0);
    put32(g, SH_REQ_KIND_EXPR);
}

static void finish(prog *g)
{
    for (int i = 0; i < 4; i++)
        g->p[4 + i] = (uint8_t)((uint32_t)g->len >> (24 - 8 * i));
}

static sh_err eval_prog(const prog *g, const sh_req_subject *s, sh_req_result *r)
{
    sh_cursor c = sh_cursor_make(g->p, g->len);
    return sh_req_evaluate(&c, s, r, NULL);
}

static void test_depth_limit(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    sh_req_result r;
    for (uint32_t nots = SH_MAX_REQUIREMENT_DEPTH - 1; nots <= SH_MAX_REQUIREMENT_DEPTH; nots++) {
        prog g;
        start(&g);
        for (uint32_t i = 0; i < nots; i++)
            put32(&g, SH_REQ_OP_NOT);
        put32(&g, SH_REQ_OP_TRUE);
        finish(&g);
        sh_err e = eval_prog(&g, &s, &r);
        if (nots < SH_MAX_REQUIREMENT_DEPTH) {
            /* the innermost "true" sits at level 999: allowed; 998 nots keep it true */
            assert_int_equal(e, SH_E_OK);
            assert_true(r.satisfied);
        } else {
            assert_int_equal(e, SH_E_REQ_TOO_DEEP);
            assert_false(r.satisfied);
        }
        free(g.p);
    }
}

static void test_size_and_structure_limits(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    sh_req_result r;
    prog g;

    /* larger than SH_MAX_REQUIREMENT_SIZE: an identifier that long */
    start(&g);
    put32(&g, SH_REQ_OP_IDENT);
    put32(&g, SH_MAX_REQUIREMENT_SIZE);
    for (uint32_t i = 0; i < SH_MAX_REQUIREMENT_SIZE / 4; i++)
        put32(&g, 0x61616161);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_REQ_TOO_LARGE);
    assert_false(r.satisfied);
    free(g.p);

    /* more opcodes than SH_MAX_REQUIREMENT_OPS: a long left-nested "true and true and ..." */
    start(&g);
    for (uint32_t i = 0; i < SH_MAX_REQUIREMENT_OPS; i++) {
        put32(&g, SH_REQ_OP_AND);
        put32(&g, SH_REQ_OP_TRUE);
    }
    put32(&g, SH_REQ_OP_TRUE);
    finish(&g);
    sh_err e = eval_prog(&g, &s, &r);
    assert_true(e == SH_E_REQ_TOO_MANY_OPS || e == SH_E_REQ_TOO_DEEP);
    assert_false(r.satisfied);
    free(g.p);

    /* truncated: an and with one operand */
    start(&g);
    put32(&g, SH_REQ_OP_AND);
    put32(&g, SH_REQ_OP_TRUE);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_REQ_TRUNCATED);
    assert_false(r.satisfied);
    free(g.p);

    /* trailing bytes after the expression */
    start(&g);
    put32(&g, SH_REQ_OP_TRUE);
    put32(&g, SH_REQ_OP_TRUE);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_REQ_TRAILING_DATA);
    free(g.p);

    /* an unknown opcode without a flag, and an unknown match */
    start(&g);
    put32(&g, 0x99);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_REQ_UNKNOWN_OPCODE);
    free(g.p);
    start(&g);
    put32(&g, SH_REQ_OP_ENTITLEMENT_FIELD);
    put32(&g, 4);
    put32(&g, 0x6b65797a); /* "keyz" */
    put32(&g, SH_REQ_MATCH_COUNT);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_REQ_UNKNOWN_MATCH);
    free(g.p);

    /* not a requirement: a set's magic; and the lightweight (DER) kind */
    start(&g);
    put32(&g, SH_REQ_OP_TRUE);
    finish(&g);
    g.p[3] = 0x01;
    assert_int_not_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_false(r.satisfied);
    g.p[3] = 0x00;
    g.p[11] = SH_REQ_KIND_LWCR;
    assert_int_not_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_false(r.satisfied);
    g.p[11] = SH_REQ_KIND_EXPR;
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_true(r.satisfied);
    /* cut inside the header */
    sh_cursor c = sh_cursor_make(g.p, 8);
    assert_int_not_equal(sh_req_evaluate(&c, &s, &r, NULL), SH_E_OK);
    free(g.p);
}

/* Opcodes with the generic-skip / generic-false flag bits: u32 size, payload. */
static void test_generic_flags(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    sh_req_result r;
    prog g;
    /* skip: the payload is skipped and the next expression stands in its place */
    start(&g);
    put32(&g, SH_REQ_OP_GENERIC_SKIP | 0x99);
    put32(&g, 4);
    put32(&g, 0xdeadbeef);
    put32(&g, SH_REQ_OP_TRUE);
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_true(r.satisfied);
    assert_false(r.has_unsupported);
    free(g.p);
    /* false: the op itself evaluates as false */
    start(&g);
    put32(&g, SH_REQ_OP_OR);
    put32(&g, SH_REQ_OP_GENERIC_FALSE | 0x99);
    put32(&g, 0);
    put32(&g, SH_REQ_OP_IDENT);
    put32(&g, 4);
    put32(&g, 0x6e6f7065); /* "nope" */
    finish(&g);
    assert_int_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_false(r.satisfied);
    free(g.p);
    /* a size past the end */
    start(&g);
    put32(&g, SH_REQ_OP_GENERIC_FALSE | 0x99);
    put32(&g, 64);
    finish(&g);
    assert_int_not_equal(eval_prog(&g, &s, &r), SH_E_OK);
    assert_false(r.satisfied);
    free(g.p);
}

/* The compiler's own output for a full designated requirement round-trips through evaluation:
 * compile, evaluate the blob with sh_req_evaluate (not the text helper). */
static void test_compiled_blob(void **state)
{
    fixture *f = *state;
    sh_req_subject s = devid_subject(f);
    const char *text = "identifier \"" IDENT "\" and anchor apple generic and certificate "
                       "1[field.1.2.840.113635.100.6.2.6] and certificate "
                       "leaf[field.1.2.840.113635.100.6.1.13] and certificate "
                       "leaf[subject.OU] = SHTEAM0001";
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(sh_req_compile(text, strlen(text), SH_REQ_PARSE_SINGLE, NULL, &blob, &len,
                                    NULL, NULL),
                     SH_E_OK);
    sh_cursor c = sh_cursor_make(blob, len);
    sh_req_result r;
    assert_int_equal(sh_req_evaluate(&c, &s, &r, NULL), SH_E_OK);
    assert_true(r.satisfied);
    assert_false(r.has_unsupported);
    s.identifier = "com.example.app.camera";
    assert_int_equal(sh_req_evaluate(&c, &s, &r, NULL), SH_E_OK);
    assert_false(r.satisfied);
    sh_free(NULL, blob);
    /* text that does not compile is the compiler's error */
    assert_int_equal(sh_req_evaluate_text("identifier and", &s, &r, NULL), SH_E_REQ_SYNTAX);
    assert_false(r.satisfied);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants_and_identifier),
        cmocka_unit_test(test_and_or_not),
        cmocka_unit_test(test_cdhash),
        cmocka_unit_test(test_anchor_apple),
        cmocka_unit_test(test_certificate_subject),
        cmocka_unit_test(test_certificate_markers),
        cmocka_unit_test(test_entitlement_platform_notarized),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_and_structure_limits),
        cmocka_unit_test(test_generic_flags),
        cmocka_unit_test(test_compiled_blob),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
