/* Code requirements: decoder (binary -> text), compiler (text -> binary), round trips, the real
 * requirement sets in shared/external-samples, and hostile blobs each with its specific error.
 * Every blob handed to the decoder is an exactly sized heap copy, so ASan sees any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failing_alloc.h"

#include "requirement.h"

/* ---- blob builder ---- */

typedef struct tb {
    uint8_t *p;
    size_t len, cap;
} tb;

static void tb_raw(tb *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void tb_u32(tb *b, uint32_t v)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    tb_raw(b, be, 4);
}

static void tb_u64(tb *b, uint64_t v)
{
    tb_u32(b, (uint32_t)(v >> 32));
    tb_u32(b, (uint32_t)v);
}

static void tb_data(tb *b, const void *data, size_t n)
{
    static const uint8_t zeros[4] = {0};
    tb_u32(b, (uint32_t)n);
    tb_raw(b, data, n);
    tb_raw(b, zeros, (4 - (n & 3)) & 3);
}

static void tb_str(tb *b, const char *s) { tb_data(b, s, strlen(s)); }

static void tb_set_u32(tb *b, size_t at, uint32_t v)
{
    b->p[at] = (uint8_t)(v >> 24);
    b->p[at + 1] = (uint8_t)(v >> 16);
    b->p[at + 2] = (uint8_t)(v >> 8);
    b->p[at + 3] = (uint8_t)v;
}

/* Starts a Requirement blob (kind 1); tb_done() patches the length. */
static tb req_begin(void)
{
    tb b = {0};
    tb_u32(&b, SH_REQ_MAGIC);
    tb_u32(&b, 0);
    tb_u32(&b, SH_REQ_KIND_EXPR);
    return b;
}

static void tb_done(tb *b) { tb_set_u32(b, 4, (uint32_t)b->len); }

/* Exactly sized heap copy. */
static uint8_t *exact(const void *data, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, data, n);
    return copy;
}

static uint8_t *hex_bytes(const char *hex, size_t *n)
{
    size_t len = strlen(hex);
    uint8_t *out = malloc(len / 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        unsigned v;
        assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
        out[o++] = (uint8_t)v;
    }
    *n = o;
    return out;
}

/* ---- decode / compile helpers ---- */

/* Decodes data (copied exactly) with flags; returns the text (caller frees) or NULL with *code. */
static char *decode_flags(const uint8_t *data, size_t n, unsigned flags, sh_err *code,
                          sh_error *err_out)
{
    uint8_t *copy = exact(data, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_error err = {0};
    char *text = NULL;
    size_t len = 0;
    sh_err e = sh_req_to_text_alloc(&c, flags, NULL, &text, &len, NULL, &err);
    free(copy);
    if (code)
        *code = e;
    if (err_out)
        *err_out = err;
    if (e != SH_E_OK)
        return NULL;
    assert_int_equal(strlen(text), len);
    return text;
}

static char *decode_ok(const uint8_t *data, size_t n, unsigned flags)
{
    sh_err code;
    sh_error err;
    char *text = decode_flags(data, n, flags, &code, &err);
    if (!text) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        fail_msg("decode failed: %s: %s", sh_err_name(code), msg);
    }
    return text;
}

static void expect_decode_error(const uint8_t *data, size_t n, sh_err expected)
{
    for (unsigned flags = 0; flags <= SH_REQ_TEXT_LOSSLESS; flags++) {
        sh_err code;
        char *text = decode_flags(data, n, flags, &code, NULL);
        if (text)
            fail_msg("expected %s, decoded \"%s\"", sh_err_name(expected), text);
        if (code != expected)
            fail_msg("expected %s, got %s", sh_err_name(expected), sh_err_name(code));
    }
    uint8_t *copy = exact(data, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_error err = {0};
    assert_int_equal(sh_req_check(&c, NULL, &err), expected);
    free(copy);
}

static uint8_t *compile_mode(const char *text, sh_req_parse_mode mode, size_t *n)
{
    uint8_t *blob = NULL;
    sh_req_diag diag;
    sh_error err = {0};
    sh_err e = sh_req_compile(text, strlen(text), mode, NULL, &blob, n, &diag, &err);
    if (e != SH_E_OK)
        fail_msg("compile of \"%s\" failed: %s at line %zu column %zu: %s", text, sh_err_name(e),
                 diag.line, diag.column, diag.message);
    uint8_t *copy = exact(blob, *n);
    free(blob);
    return copy;
}

static uint8_t *compile_ok(const char *text, size_t *n)
{
    return compile_mode(text, SH_REQ_PARSE_AUTO, n);
}

static void expect_compile_error(const char *text, sh_err expected, size_t line, size_t column)
{
    uint8_t *blob = NULL;
    size_t n = 0;
    sh_req_diag diag;
    sh_error err = {0};
    sh_err e = sh_req_compile(text, strlen(text), SH_REQ_PARSE_AUTO, NULL, &blob, &n, &diag, &err);
    if (e == SH_E_OK)
        fail_msg("\"%s\" compiled, expected %s", text, sh_err_name(expected));
    if (e != expected)
        fail_msg("\"%s\": expected %s, got %s (%s)", text, sh_err_name(expected), sh_err_name(e),
                 diag.message);
    assert_null(blob);
    if (line) {
        if (diag.line != line || diag.column != column)
            fail_msg("\"%s\": error at %zu:%zu, expected %zu:%zu (%s)", text, diag.line,
                     diag.column, line, column, diag.message);
        assert_int_equal(err.value, column);
        assert_int_equal(err.index, (int64_t)line);
    }
    assert_true(diag.message[0] != '\0');
}

/* Lossless text recompiles to exactly these bytes. */
static void expect_lossless_round_trip(const uint8_t *blob, size_t n)
{
    char *text = decode_ok(blob, n, SH_REQ_TEXT_LOSSLESS);
    uint32_t magic = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | blob[2] << 8 | blob[3];
    size_t m = 0;
    uint8_t *again = compile_mode(text, magic == SH_REQSET_MAGIC ? SH_REQ_PARSE_SET
                                                                  : SH_REQ_PARSE_SINGLE,
                                  &m);
    if (m != n || memcmp(again, blob, n) != 0)
        fail_msg("lossless text \"%s\" does not rebuild the same %zu bytes (got %zu)", text, n,
                 m);
    free(again);
    free(text);
}

/* ---- the round-trip table: text -> binary -> text, for every opcode and match operation ---- */

typedef struct rt_case {
    const char *text;     /* Apple's text; the default decode must give it back exactly */
    const char *lossless; /* the lossless text when it differs (NULL: the same) */
    const char *hex;      /* expected program bytes after the 12-byte header (NULL: unchecked) */
} rt_case;

#define DEVID_DR                                                                                 \
    "identifier \"com.foo\" and anchor apple generic and certificate "                           \
    "1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate "                            \
    "leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "     \
    "ZCK58M894E"

static const rt_case round_trips[] = {
    /* op 0, 1 */
    {"never", NULL, "00000000"},
    {"always", NULL, "00000001"},
    /* op 2: identifier; bare names, quoted names */
    {"identifier \"com.foo\"", NULL, "00000002" "00000007" "636f6d2e666f6f00"},
    {"identifier foo", NULL, "00000002" "00000003" "666f6f00"},
    {"identifier \"leaf\"", NULL, NULL},
    {"identifier \"1abc\"", NULL, NULL},
    {"identifier \"\"", NULL, "00000002" "00000000"},
    {"identifier \"with space\"", NULL, NULL},
    {"identifier \"quote\\\"back\\\\slash\"", NULL, NULL},
    {"identifier 0x00ff41", NULL, "00000002" "00000003" "00ff4100"},
    /* op 3, 15, 13, 18 */
    {"anchor apple", NULL, "00000003"},
    {"anchor apple generic", NULL, "0000000f"},
    {"anchor trusted", NULL, "0000000d"},
    {"anchor apple someAnchor", NULL, "00000012" "0000000a" "736f6d65416e63686f720000"},
    {"anchor apple \"generic\"", NULL, NULL},
    /* op 4: anchor hash with every slot form */
    {"certificate root = H\"c8d1aac67c23186501a9ddc93356d8e14ae29e14\"", NULL,
     "00000004" "ffffffff" "00000014" "c8d1aac67c23186501a9ddc93356d8e14ae29e14"},
    {"certificate leaf = H\"0000000000000000000000000000000000000001\"", NULL, NULL},
    {"certificate 2 = H\"00112233445566778899aabbccddeeff00112233\"", NULL, NULL},
    {"certificate -2 = H\"00112233445566778899aabbccddeeff00112233\"", NULL,
     "00000004" "fffffffe" "00000014" "00112233445566778899aabbccddeeff00112233"},
    /* op 6, 7, 9: precedence and parentheses */
    {"always and never", NULL, "00000006" "00000001" "00000000"},
    {"always or never", NULL, "00000007" "00000001" "00000000"},
    {"always and never and notarized", NULL, "00000006" "00000006" "00000001" "00000000" "00000015"},
    {"always or never and notarized", NULL, "00000007" "00000001" "00000006" "00000000" "00000015"},
    {"always and never or notarized", NULL, "00000007" "00000006" "00000001" "00000000" "00000015"},
    {"(always or never) and notarized", NULL, "00000006" "00000007" "00000001" "00000000" "00000015"},
    {"always and (never or notarized)", NULL, NULL},
    {"! always", NULL, "00000009" "00000001"},
    {"! ! never", NULL, "00000009" "00000009" "00000000"},
    {"! (always and never)", NULL, "00000009" "00000006" "00000001" "00000000"},
    {"! (always or never) or ! legacy", NULL, NULL},
    {"(always or never) and (notarized or legacy) or anchor apple", NULL, NULL},
    /* op 8 */
    {"cdhash H\"0123456789abcdef0123456789abcdef01234567\"", NULL,
     "00000008" "00000014" "0123456789abcdef0123456789abcdef01234567"},
    /* op 10 with every data match */
    {"info[CFBundleVersion] >= \"1.0\"", NULL,
     "0000000a" "0000000f" "43464275 6e646c65 56657273 696f6e00" "00000008" "00000003" "312e3000"},
    {"info[CFBundleShortVersionString] /* exists */", NULL, NULL},
    {"info[a.b.c] = value", NULL, NULL},
    {"info[x] = v and info[y] ~ sub and info[z] = pre* and info[w] = *suf", NULL,
     NULL},
    {"info[k] < b and info[k] > b and info[k] <= b and info[k] >= b", NULL, NULL},
    {"info[k] absent ", NULL, "0000000a" "00000001" "6b000000" "0000000e"},
    {"info[k] absent  and info[\"key with space\"] = 0x0102", NULL, NULL},
    /* op 11: subject fields */
    {"certificate leaf[subject.CN] = \"Apple Development: Shen Wang (499ZF9BZZC)\"", NULL,
     NULL},
    {"certificate leaf[subject.CN] = \"\"", NULL, NULL},
    {"certificate 1[subject.O] = \"Apple Inc.\"", NULL, NULL},
    /* op 12: Apple prints no space before "trusted" */
    {"certificate leaftrusted", "certificate leaf trusted", "0000000c" "00000000"},
    {"certificate roottrusted", "certificate root trusted", "0000000c" "ffffffff"},
    {"certificate 3trusted", "certificate 3 trusted", "0000000c" "00000003"},
    /* op 14, 17, 22 */
    {"certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */", NULL,
     "0000000e" "00000001" "0000000a" "2a864886f76364060206" "0000" "00000000"},
    {"certificate leaf[field.2.999.3] = foo", NULL, NULL},
    {"certificate leaf[field.0.39] /* exists */", NULL, "0000000e" "00000000" "00000001" "27000000" "00000000"},
    {"certificate leaf[field.1.2.18446744073709551615] /* exists */", NULL, NULL},
    {"certificate root[policy.1.2.840.113635.100.5.1] /* exists */", NULL, NULL},
    {"certificate leaf[timestamp.1.2.840.113635.100.6.1.33] < <2019-01-01 00:00:00 +0000>", NULL,
     "00000016" "00000000" "0000000a" "2a864886f76364060121" "0000" "0000000a" "0000000021dae500"},
    {"certificate leaf[timestamp.1.2.3] = <2001-01-01 00:00:00 +0000>", NULL, NULL},
    {"certificate leaf[timestamp.1.2.3] > <1970-01-01 00:00:00 +0000>", NULL,
     "00000016" "00000000" "00000002" "2a030000" "0000000b" "ffffffffc5b03780"},
    {"certificate leaf[timestamp.1.2.3] <= <2038-01-19 03:14:08 +0000>", NULL, NULL},
    {"certificate leaf[timestamp.1.2.3] >= <0001-01-01 00:00:00 +0000>", NULL, NULL},
    {"certificate leaf[timestamp.1.2.3] absent ", NULL, NULL},
    /* op 16 */
    {"entitlement[\"com.apple.security.app-sandbox\"] /* exists */", NULL, NULL},
    {"entitlement[\"com.apple.developer.team-identifier\"] = ABCDE12345", NULL, NULL},
    /* op 19, 20, 21, 23 */
    {"(someCode)", NULL, "00000013" "00000008" "736f6d65436f6465"},
    {"(\"with space\")", NULL, NULL},
    {"platform = 1", NULL, "00000014" "00000001"},
    {"platform = -7", NULL, "00000014" "fffffff9"},
    {"notarized", NULL, "00000015"},
    {"legacy", NULL, "00000017"},
    /* typical designated requirements */
    {DEVID_DR, NULL, NULL},
    {DEVID_DR " and notarized", NULL, NULL},
    {"identifier \"org.fastlane.very-capable-app\" and certificate root = "
     "H\"c8d1aac67c23186501a9ddc93356d8e14ae29e14\"",
     NULL, NULL},
    {"anchor apple generic and identifier \"com.zoo.SignedApp\" and (certificate "
     "leaf[field.1.2.840.113635.100.6.1.9] /* exists */ or certificate "
     "1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate "
     "leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "
     "ZCK58M894E)",
     NULL, NULL},
};

static void round_trip_table(void **state)
{
    (void)state;
    size_t count = sizeof round_trips / sizeof round_trips[0];
    assert_true(count >= 40);
    for (size_t i = 0; i < count; i++) {
        const rt_case *c = &round_trips[i];
        size_t n;
        uint8_t *blob = compile_ok(c->lossless ? c->lossless : c->text, &n);
        if (c->hex) {
            char clean[512];
            size_t o = 0;
            for (const char *h = c->hex; *h && o + 1 < sizeof clean; h++)
                if (*h != ' ')
                    clean[o++] = *h;
            clean[o] = '\0';
            size_t want_n;
            uint8_t *want = hex_bytes(clean, &want_n);
            if (n != want_n + 12 || memcmp(blob + 12, want, want_n) != 0)
                fail_msg("\"%s\": program bytes differ", c->text);
            free(want);
            assert_int_equal(blob[4] << 24 | blob[5] << 16 | blob[6] << 8 | blob[7], n);
        }
        char *apple = decode_ok(blob, n, 0);
        if (strcmp(apple, c->text) != 0)
            fail_msg("case %zu: Apple text\n  \"%s\"\nwanted\n  \"%s\"", i, apple, c->text);
        char *lossless = decode_ok(blob, n, SH_REQ_TEXT_LOSSLESS);
        const char *want_lossless = c->lossless ? c->lossless : c->text;
        if (strcmp(lossless, want_lossless) != 0)
            fail_msg("case %zu: lossless text \"%s\", wanted \"%s\"", i, lossless, want_lossless);
        expect_lossless_round_trip(blob, n);
        /* Apple's text recompiles to the same bytes whenever Apple's compiler can parse it. */
        if (!c->lossless) {
            size_t m;
            uint8_t *again = compile_ok(apple, &m);
            assert_int_equal(m, n);
            assert_memory_equal(again, blob, n);
            free(again);
        }
        free(apple);
        free(lossless);
        free(blob);
    }
}

/* Every opcode 0..23 and every match operation 0..14 appears in the table's compiled output. */
static void table_covers_every_opcode_and_match(void **state)
{
    (void)state;
    bool ops[SH_REQ_OP_COUNT] = {false}, matches[SH_REQ_MATCH_COUNT] = {false};
    /* opInfoKeyValue has no Apple text of its own; it is covered by its binary test. */
    ops[SH_REQ_OP_INFO_KEY_VALUE] = true;
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
        const rt_case *c = &round_trips[i];
        const char *t = c->text;
        if (strstr(t, "never")) ops[0] = true;
        if (strstr(t, "always")) ops[1] = true;
        if (strstr(t, "identifier")) ops[2] = true;
        if (strstr(t, "anchor apple") && !strstr(t, "anchor apple generic") &&
            !strstr(t, "anchor apple some") && !strstr(t, "anchor apple \""))
            ops[3] = true;
        if (strstr(t, "= H\"")) ops[4] = true;
        if (strstr(t, " and ")) ops[6] = true;
        if (strstr(t, " or ")) ops[7] = true;
        if (strstr(t, "cdhash")) ops[8] = true;
        if (strstr(t, "! ")) ops[9] = true;
        if (strstr(t, "info[")) ops[10] = true;
        if (strstr(t, "[subject.")) ops[11] = true;
        if (strstr(t, "trusted") && strstr(t, "certificate")) ops[12] = true;
        if (strstr(t, "anchor trusted")) ops[13] = true;
        if (strstr(t, "[field.")) ops[14] = true;
        if (strstr(t, "anchor apple generic")) ops[15] = true;
        if (strstr(t, "entitlement[")) ops[16] = true;
        if (strstr(t, "[policy.")) ops[17] = true;
        if (strstr(t, "anchor apple someAnchor")) ops[18] = true;
        if (t[0] == '(' && !strstr(t, " ")) ops[19] = true;
        if (strstr(t, "platform")) ops[20] = true;
        if (strstr(t, "notarized")) ops[21] = true;
        if (strstr(t, "[timestamp.")) ops[22] = true;
        if (strstr(t, "legacy")) ops[23] = true;
        if (strstr(t, "/* exists */")) matches[0] = true;
        if (strstr(t, "] = ") && !strstr(t, "] = <") && !strstr(t, "*")) matches[1] = true;
        if (strstr(t, " ~ ")) matches[2] = true;
        if (strstr(t, "pre*")) matches[3] = true;
        if (strstr(t, "= *")) matches[4] = true;
        if (strstr(t, "] < b")) matches[5] = true;
        if (strstr(t, "] > b")) matches[6] = true;
        if (strstr(t, "] <= b")) matches[7] = true;
        if (strstr(t, "] >= b")) matches[8] = true;
        if (strstr(t, "] = <")) matches[9] = true;
        if (strstr(t, "] < <")) matches[10] = true;
        if (strstr(t, "] > <")) matches[11] = true;
        if (strstr(t, "] <= <")) matches[12] = true;
        if (strstr(t, "] >= <")) matches[13] = true;
        if (strstr(t, " absent ")) matches[14] = true;
    }
    for (int i = 0; i < SH_REQ_OP_COUNT; i++)
        if (!ops[i])
            fail_msg("opcode %d not covered", i);
    for (int i = 0; i < SH_REQ_MATCH_COUNT; i++)
        if (!matches[i])
            fail_msg("match %d not covered", i);
}

/* ---- binary inputs whose Apple text is lossy ---- */

typedef struct bin_case {
    const char *apple, *lossless;
} bin_case;

static void check_binary(tb *b, const char *apple, const char *lossless)
{
    tb_done(b);
    char *a = decode_ok(b->p, b->len, 0);
    char *l = decode_ok(b->p, b->len, SH_REQ_TEXT_LOSSLESS);
    if (strcmp(a, apple) != 0)
        fail_msg("Apple text \"%s\", wanted \"%s\"", a, apple);
    if (strcmp(l, lossless) != 0)
        fail_msg("lossless text \"%s\", wanted \"%s\"", l, lossless);
    expect_lossless_round_trip(b->p, b->len);
    free(a);
    free(l);
    free(b->p);
    *b = (tb){0};
}

static void right_nested_chains_print_like_apple(void **state)
{
    (void)state;
    tb b = req_begin(); /* and(always, and(never, notarized)): codesign's default DR shape */
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_FALSE);
    tb_u32(&b, SH_REQ_OP_NOTARIZED);
    check_binary(&b, "always and never and notarized", "always and (never and notarized)");

    b = req_begin(); /* or(always, or(never, and(legacy, notarized))) */
    tb_u32(&b, SH_REQ_OP_OR);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_OR);
    tb_u32(&b, SH_REQ_OP_FALSE);
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_LEGACY_DEVID);
    tb_u32(&b, SH_REQ_OP_NOTARIZED);
    check_binary(&b, "always or never or legacy and notarized",
                 "always or (never or legacy and notarized)");

    b = req_begin(); /* and(always, or(never, notarized)): parentheses in both */
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_OR);
    tb_u32(&b, SH_REQ_OP_FALSE);
    tb_u32(&b, SH_REQ_OP_NOTARIZED);
    check_binary(&b, "always and (never or notarized)", "always and (never or notarized)");
}

static void legacy_info_key_value(void **state)
{
    (void)state;
    tb b = req_begin();
    tb_u32(&b, SH_REQ_OP_INFO_KEY_VALUE);
    tb_str(&b, "CFBundleIdentifier");
    tb_str(&b, "com.foo");
    check_binary(&b, "info[CFBundleIdentifier] = \"com.foo\"",
                 "legacy info[CFBundleIdentifier] = \"com.foo\"");
}

static void flagged_and_generic_opcodes(void **state)
{
    (void)state;
    tb b = req_begin(); /* a known opcode carrying flag bits */
    tb_u32(&b, 0x40000000u | SH_REQ_OP_IDENT);
    tb_str(&b, "x");
    check_binary(&b, "identifier x", "opcode(0x40000002) identifier x");

    b = req_begin(); /* flagged and: the prefix applies to the parenthesised chain */
    tb_u32(&b, 0x01000000u | SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_FALSE);
    check_binary(&b, "always and never", "opcode(0x01000006) (always and never)");

    b = req_begin(); /* generic-false unknown opcode, odd-sized payload */
    tb_u32(&b, SH_REQ_OP_GENERIC_FALSE | 32);
    tb_u32(&b, 3);
    tb_raw(&b, "\x01\x02\x03", 3);
    check_binary(&b, "false /* opcode 32 */", "opcode(0x80000020, H\"010203\")");

    b = req_begin(); /* generic-skip in front of an expression, inside an and */
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_NOTARIZED);
    tb_u32(&b, SH_REQ_OP_GENERIC_SKIP | 0x123456);
    tb_u32(&b, 0);
    tb_u32(&b, SH_REQ_OP_OR);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_FALSE);
    check_binary(&b, "notarized and  /* opcode 1193046 */ (always or never)",
                 "notarized and opcode(0x40123456, H\"\") (always or never)");
}

static void cert_field_keys_outside_subject(void **state)
{
    (void)state;
    tb b = req_begin(); /* opCertField "email": the interpreter knows it, the grammar does not */
    tb_u32(&b, SH_REQ_OP_CERT_FIELD);
    tb_u32(&b, 0);
    tb_str(&b, "email");
    tb_u32(&b, SH_REQ_MATCH_EQUAL);
    tb_str(&b, "a@b.c");
    check_binary(&b, "certificate leaf[email] = \"a@b.c\"",
                 "raw(H\"0000000b0000000000000005656d61696c000000000000010000000561406"
                 "22e63000000\")");

    b = req_begin(); /* opCertField "field.1.2": would compile to opCertGeneric */
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_CERT_FIELD);
    tb_u32(&b, 1);
    tb_str(&b, "field.1.2");
    tb_u32(&b, SH_REQ_MATCH_EXISTS);
    tb_u32(&b, SH_REQ_OP_TRUE);
    check_binary(&b, "certificate 1[field.1.2] /* exists */ and always",
                 "raw(H\"0000000b0000000100000009666965"
                 "6c642e312e3200000000000000\") and always");
}

static void quoting_rules(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        size_t len;
        const char *apple_ident, *apple_key, *lossless_key;
    } cases[] = {
        {"abc", 3, "identifier abc", "info[abc]", "info[abc]"},
        {"a.b", 3, "identifier \"a.b\"", "info[a.b]", "info[a.b]"},
        {"a.1", 3, "identifier \"a.1\"", "info[a.1]", "info[a.1]"},
        {"a..b", 4, "identifier \"a..b\"", "info[a..b]", "info[\"a..b\"]"},
        {"a.", 2, "identifier \"a.\"", "info[a.]", "info[\"a.\"]"},
        {".a", 2, "identifier \".a\"", "info[.a]", "info[\".a\"]"},
        {"a.1b", 4, "identifier \"a.1b\"", "info[a.1b]", "info[\"a.1b\"]"},
        {"9lives", 6, "identifier \"9lives\"", "info[\"9lives\"]", "info[\"9lives\"]"},
        {"root", 4, "identifier \"root\"", "info[\"root\"]", "info[\"root\"]"},
        {"tab\there", 8, "identifier \"tab\there\"", "info[\"tab\there\"]", "info[\"tab\there\"]"},
        {"caf\xc3\xa9", 5, "identifier 0x636166c3a9", "info[0x636166c3a9]", "info[0x636166c3a9]"},
        {"nul\0", 4, "identifier 0x6e756c00", "info[0x6e756c00]", "info[0x6e756c00]"},
        {"del\x7f", 4, "identifier 0x64656c7f", "info[0x64656c7f]", "info[0x64656c7f]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb b = req_begin();
        tb_u32(&b, SH_REQ_OP_IDENT);
        tb_data(&b, cases[i].value, cases[i].len);
        check_binary(&b, cases[i].apple_ident, cases[i].apple_ident);

        b = req_begin();
        tb_u32(&b, SH_REQ_OP_INFO_KEY_FIELD);
        tb_data(&b, cases[i].value, cases[i].len);
        tb_u32(&b, SH_REQ_MATCH_EXISTS);
        char apple[64], lossless[64];
        snprintf(apple, sizeof apple, "%s /* exists */", cases[i].apple_key);
        snprintf(lossless, sizeof lossless, "%s /* exists */", cases[i].lossless_key);
        check_binary(&b, apple, lossless);
    }

    /* a long bare string is not cut at 255 bytes */
    char longname[600];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    tb b = req_begin();
    tb_u32(&b, SH_REQ_OP_IDENT);
    tb_str(&b, longname);
    char want[700];
    snprintf(want, sizeof want, "identifier %s", longname);
    check_binary(&b, want, want);
}

static void dates_cover_the_int64_range(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *text;
    } cases[] = {
        {0, "<2001-01-01 00:00:00 +0000>"},
        {-1, "<2000-12-31 23:59:59 +0000>"},
        {-978307200, "<1970-01-01 00:00:00 +0000>"},
        {INT64_MAX, "<292277026627-12-06 15:30:07 +0000>"},
        {INT64_MIN, "<-292277022626-01-27 08:29:52 +0000>"},
        {-63145526400, "<0000-01-01 00:00:00 +0000>"},
        {-63145526400 - 86400, "<-0001-12-31 00:00:00 +0000>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb b = req_begin();
        tb_u32(&b, SH_REQ_OP_CERT_FIELD_DATE);
        tb_u32(&b, 0);
        tb_data(&b, "\x2a\x03", 2);
        tb_u32(&b, SH_REQ_MATCH_ON_OR_AFTER);
        tb_u64(&b, (uint64_t)cases[i].t);
        char want[128];
        snprintf(want, sizeof want, "certificate leaf[timestamp.1.2.3] >= %s", cases[i].text);
        check_binary(&b, want, want);
    }
    /* Apple's GeneralizedTime input form: Z, +hhmm, -hhmm and the leap second */
    static const struct {
        const char *in, *out;
    } gen[] = {
        {"20190101000000Z", "<2019-01-01 00:00:00 +0000>"},
        {"20190101010000+0100", "<2019-01-01 00:00:00 +0000>"},
        {"20181231230000-0100", "<2019-01-01 00:00:00 +0000>"},
        {"20161231235960Z", "<2017-01-01 00:00:00 +0000>"},
        {"20000229120000Z", "<2000-02-29 12:00:00 +0000>"},
    };
    for (size_t i = 0; i < sizeof gen / sizeof gen[0]; i++) {
        char text[128], want[128];
        snprintf(text, sizeof text, "info[k] = timestamp \"%s\"", gen[i].in);
        snprintf(want, sizeof want, "info[k] = %s", gen[i].out);
        size_t n;
        uint8_t *blob = compile_ok(text, &n);
        char *got = decode_ok(blob, n, 0);
        assert_string_equal(got, want);
        free(got);
        free(blob);
    }
}

/* ---- requirement sets ---- */

static void set_text_and_types(void **state)
{
    (void)state;
    const char *text = "host => anchor apple\n"
                       "guest => always\n"
                       "designated => identifier \"com.foo\"\n"
                       "library => never\n"
                       "plugin => notarized\n";
    size_t n;
    uint8_t *blob = compile_ok(text, &n);
    char *back = decode_ok(blob, n, 0);
    assert_string_equal(back, text);
    free(back);

    uint8_t *copy = exact(blob, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_reqset set;
    sh_error err = {0};
    assert_int_equal(sh_reqset_parse(&c, &set, &err), SH_E_OK);
    assert_int_equal(set.count, 5);
    assert_int_equal(set.layout, 0);
    const sh_reqset_entry *dr = sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED);
    assert_non_null(dr);
    assert_int_equal(dr->type, 3);
    assert_null(sh_reqset_find(&set, 9));
    sh_req_info info;
    assert_int_equal(sh_req_check(&c, &info, &err), SH_E_OK);
    assert_int_equal(info.magic, SH_REQSET_MAGIC);
    assert_int_equal(info.count, 5);
    assert_int_equal(info.ops, 5);
    free(copy);
    free(blob);

    /* entries are sorted by type; a later entry of a type replaces the earlier one */
    blob = compile_ok("library => never designated => always 7 => legacy designated => notarized",
                      &n);
    back = decode_ok(blob, n, 0);
    assert_string_equal(back, "designated => notarized\nlibrary => never\n"
                              "/*unknown type*/ 7 => legacy\n");
    free(back);
    free(blob);

    /* type 0 ("invalid") and a type above 2^31: Apple prints it signed, lossless unsigned */
    blob = compile_ok("invalid => always 4294967295 => never", &n);
    back = decode_ok(blob, n, 0);
    assert_string_equal(back, "invalid => always\n/*unknown type*/ -1 => never\n");
    free(back);
    back = decode_ok(blob, n, SH_REQ_TEXT_LOSSLESS);
    assert_string_equal(back, "invalid => always\n/*unknown type*/ 4294967295 => never\n");
    free(back);
    expect_lossless_round_trip(blob, n);
    free(blob);

    /* an empty set: "" both ways (SET mode only; AUTO needs something to sense) */
    blob = compile_mode("", SH_REQ_PARSE_SET, &n);
    assert_int_equal(n, 12);
    back = decode_ok(blob, n, 0);
    assert_string_equal(back, "");
    free(back);
    free(blob);
    expect_compile_error("", SH_E_REQ_SYNTAX, 1, 1);
    expect_compile_error("  # only a comment\n", SH_E_REQ_SYNTAX, 2, 1);
}

static void set_layout_is_reported(void **state)
{
    (void)state;
    /* two entries, index order plugin (5) then host (1), a 4-byte gap, 4 trailing bytes */
    tb r = req_begin();
    tb_u32(&r, SH_REQ_OP_TRUE);
    tb_done(&r);
    tb s = {0};
    tb_u32(&s, SH_REQSET_MAGIC);
    tb_u32(&s, 0);
    tb_u32(&s, 2);
    tb_u32(&s, SH_REQ_TYPE_PLUGIN);
    tb_u32(&s, 28 + 4);
    tb_u32(&s, SH_REQ_TYPE_HOST);
    tb_u32(&s, 28 + 4 + 16);
    tb_u32(&s, 0); /* gap */
    tb_raw(&s, r.p, r.len);
    tb_raw(&s, r.p, r.len);
    tb_u32(&s, 0); /* trailing */
    tb_set_u32(&s, 4, (uint32_t)s.len);
    uint8_t *copy = exact(s.p, s.len);
    sh_cursor c = sh_cursor_make(copy, s.len);
    sh_reqset set;
    sh_error err = {0};
    assert_int_equal(sh_reqset_parse(&c, &set, &err), SH_E_OK);
    assert_int_equal(set.layout, SH_REQSET_LAYOUT_UNSORTED | SH_REQSET_LAYOUT_GAPS |
                                     SH_REQSET_LAYOUT_TRAILING);
    char *text = decode_ok(s.p, s.len, 0);
    assert_string_equal(text, "plugin => always\nhost => always\n");
    free(text);
    /* the text rebuilds the canonical layout */
    size_t n;
    uint8_t *canon = compile_ok("host => always plugin => always", &n);
    assert_int_equal(n, 12 + 16 + 32);
    c = sh_cursor_make(canon, n);
    assert_int_equal(sh_reqset_parse(&c, &set, &err), SH_E_OK);
    assert_int_equal(set.layout, 0);
    free(canon);
    free(copy);
    free(s.p);
    free(r.p);
}

/* ---- real requirement sets from shared/external-samples ---- */

static char *shared_path(const char *rel)
{
    const char *dir = getenv("SH_SHARED_DIR");
    char buf[1024];
    if (!dir || !*dir) {
        const char *src = getenv("SH_SOURCE_DIR");
        if (!src)
            return NULL;
        snprintf(buf, sizeof buf, "%s/../shared", src);
        dir = buf;
    }
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, rel);
    return path;
}

static uint8_t *read_file(const char *rel, size_t *n)
{
    char *path = shared_path(rel);
    if (!path)
        return NULL;
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *data = malloc(cap);
    size_t got;
    while ((got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    *n = len;
    return data;
}

/* The first requirement set inside a Mach-O file (found by its magic, confirmed by the parser):
 * an exact copy of the set's bytes. */
static uint8_t *find_set(const uint8_t *file, size_t n, size_t *set_len)
{
    for (size_t i = 0; i + 12 <= n; i++) {
        if (file[i] != 0xfa || file[i + 1] != 0xde || file[i + 2] != 0x0c || file[i + 3] != 0x01)
            continue;
        sh_cursor c = sh_cursor_make(file + i, n - i);
        sh_reqset set;
        sh_error err = {0};
        if (sh_reqset_parse(&c, &set, &err) != SH_E_OK)
            continue;
        *set_len = set.length;
        return exact(file + i, set.length);
    }
    return NULL;
}

static void sparkle_detached_requirements(void **state)
{
    (void)state;
    size_t n;
    uint8_t *file = read_file("external-samples/detached/sparkle_CodeSignedBothNew_CodeRequirements",
                              &n);
    if (!file)
        skip();
    uint8_t *data = exact(file, n);
    const char *want = "designated => identifier "
                       "\"org.sparkle-project.Sparkle.SUUpdateValidatorTestBundle.CodeSignedNew\"\n";
    char *text = decode_ok(data, n, 0);
    assert_string_equal(text, want);
    free(text);
    text = decode_ok(data, n, SH_REQ_TEXT_LOSSLESS);
    assert_string_equal(text, want);
    /* Apple's compiler output, byte for byte */
    size_t m;
    uint8_t *again = compile_ok(want, &m);
    assert_int_equal(m, n);
    assert_memory_equal(again, data, n);
    free(again);
    free(text);
    free(data);
    free(file);
}

static void real_designated_requirements(void **state)
{
    (void)state;
    static const struct {
        const char *file, *text;
        bool left_nested; /* compiled by Apple's compiler (Apple's text rebuilds the bytes) */
    } cases[] = {
        {"appinfo_GuiApp_universal",
         "designated => identifier \"com.icyleaf.macos.GUIApp\" and anchor apple generic and "
         "certificate leaf[subject.CN] = \"Apple Development: Shen Wang (499ZF9BZZC)\" and "
         "certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */\n",
         false},
        {"fastlane_very_capable_app_selfsigned",
         "designated => identifier \"org.fastlane.very-capable-app\" and certificate root = "
         "H\"c8d1aac67c23186501a9ddc93356d8e14ae29e14\"\n",
         true},
        {"isign_isignTestApp_armv7_arm64",
         "designated => identifier \"com.saucelabs.isignTestApp\" and anchor apple generic and "
         "certificate leaf[subject.CN] = \"iPhone Developer: Neil Kandalgaonkar (PJ5C3PEW8Z)\" "
         "and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */\n",
         false},
        {"runloop_CalSmoke-cal_armv7_arm64_sha1cms",
         "designated => identifier \"com.xamarin.chou-cal\" and anchor apple generic and "
         "certificate leaf[subject.CN] = \"iPhone Developer: Joshua Moody (8QEQJFT59F)\" and "
         "certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */\n",
         false},
        {"runloop_CalSmoke_sim_i386_x86_64_adhoc", "", true},
        {"santa_cert_hash_allowed_signingid_blocked_universal",
         "designated => identifier \"com.google.blocked_signing_id\" and anchor apple generic and "
         "certificate leaf[subject.CN] = \"Apple Development: Google Development (69FHSU289T)\" "
         "and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */\n",
         false},
        {"sparkle_DevSignedApp_SignedApp",
         "designated => anchor apple generic and identifier \"com.zoo.SignedApp\" and "
         "(certificate leaf[field.1.2.840.113635.100.6.1.9] /* exists */ or certificate "
         "1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate "
         "leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "
         "ZCK58M894E)\n",
         true},
        {"zsign_demo1_no_cms.dylib",
         "designated => identifier \"demo.dylib.47ba6b93.unsigned\" and anchor apple generic and "
         "certificate leaf[subject.CN] = \"\" and certificate "
         "1[field.1.2.840.113635.100.6.2.1] /* exists */\n",
         false},
    };
    unsigned found = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "external-samples/macho/%s", cases[i].file);
        size_t n;
        uint8_t *file = read_file(rel, &n);
        if (!file)
            continue;
        size_t len = 0;
        uint8_t *set = find_set(file, n, &len);
        free(file);
        if (!set)
            fail_msg("%s: no requirement set found", cases[i].file);
        found++;
        char *text = decode_ok(set, len, 0);
        if (strcmp(text, cases[i].text) != 0)
            fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", cases[i].file, text, cases[i].text);
        expect_lossless_round_trip(set, len);
        size_t m;
        uint8_t *again = compile_mode(text, SH_REQ_PARSE_SET, &m);
        if (cases[i].left_nested) {
            assert_int_equal(m, len);
            assert_memory_equal(again, set, len);
        } else { /* codesign's right-nested default DR: the same text, left-nested bytes */
            char *text2 = decode_ok(again, m, 0);
            assert_string_equal(text2, text);
            free(text2);
        }
        free(again);
        free(text);
        free(set);
    }
    if (found == 0)
        skip();
}

/* ---- hostile inputs ---- */

static void expect_blob_error(tb *b, sh_err expected)
{
    expect_decode_error(b->p, b->len, expected);
    free(b->p);
    *b = (tb){0};
}

static void hostile_headers(void **state)
{
    (void)state;
    expect_decode_error((const uint8_t *)"", 0, SH_E_REQ_TRUNCATED);
    expect_decode_error((const uint8_t *)"\xfa\xde\x0c", 3, SH_E_REQ_TRUNCATED);
    expect_decode_error((const uint8_t *)"\xfa\xde\x0c\x00\x00\x00", 6, SH_E_REQ_TRUNCATED);

    tb b = req_begin(); /* wrong magic */
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_done(&b);
    tb_set_u32(&b, 0, 0xfade0c02u);
    expect_blob_error(&b, SH_E_REQ_BAD_MAGIC);

    b = req_begin(); /* length below the header */
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_set_u32(&b, 4, 11);
    expect_blob_error(&b, SH_E_REQ_BAD_LENGTH);

    b = req_begin(); /* length past the data */
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_set_u32(&b, 4, 17);
    expect_blob_error(&b, SH_E_REQ_TRUNCATED);

    b = req_begin(); /* length overflow */
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_set_u32(&b, 4, 0xffffffffu);
    expect_blob_error(&b, SH_E_REQ_TOO_LARGE);

    for (uint32_t kind = 2; kind <= 3; kind++) { /* lwcr and unknown kinds */
        b = req_begin();
        tb_u32(&b, SH_REQ_OP_TRUE);
        tb_done(&b);
        tb_set_u32(&b, 8, kind);
        expect_blob_error(&b, SH_E_REQ_KIND_UNSUPPORTED);
    }
    assert_int_equal(sh_err_errsec(SH_E_REQ_KIND_UNSUPPORTED), errSecCSReqUnsupported);

    b = req_begin(); /* no expression at all */
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TRUNCATED);
}

static void hostile_programs(void **state)
{
    (void)state;
    tb b = req_begin(); /* data length past the end */
    tb_u32(&b, SH_REQ_OP_IDENT);
    tb_u32(&b, 100);
    tb_raw(&b, "abcd", 4);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_DATA_PAST_END);

    b = req_begin(); /* data length 0xffffffff */
    tb_u32(&b, SH_REQ_OP_IDENT);
    tb_u32(&b, 0xffffffffu);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_DATA_PAST_END);

    b = req_begin(); /* last data item without its padding */
    tb_u32(&b, SH_REQ_OP_IDENT);
    tb_u32(&b, 3);
    tb_raw(&b, "abc", 3);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_DATA_UNPADDED);

    b = req_begin(); /* padding that is not zero */
    tb_u32(&b, SH_REQ_OP_IDENT);
    tb_u32(&b, 3);
    tb_raw(&b, "abcX", 4);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_PADDING_NONZERO);

    b = req_begin(); /* bytes after the expression */
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TRAILING_DATA);

    b = req_begin(); /* unknown opcode, no flag */
    tb_u32(&b, SH_REQ_OP_COUNT);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_UNKNOWN_OPCODE);
    assert_int_equal(sh_err_errsec(SH_E_REQ_UNKNOWN_OPCODE), errSecCSUnimplemented);

    b = req_begin(); /* unknown opcode with other high-byte flags only */
    tb_u32(&b, 0x01000000u | 99);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_UNKNOWN_OPCODE);

    b = req_begin(); /* skip-flag opcode whose size runs past the end */
    tb_u32(&b, SH_REQ_OP_GENERIC_SKIP | 77);
    tb_u32(&b, 8);
    tb_u32(&b, 0);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_SKIP_PAST_END);

    b = req_begin(); /* skip-flag opcode with nothing after its payload */
    tb_u32(&b, SH_REQ_OP_GENERIC_SKIP | 77);
    tb_u32(&b, 0);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TRUNCATED);

    b = req_begin(); /* unknown match operation */
    tb_u32(&b, SH_REQ_OP_INFO_KEY_FIELD);
    tb_str(&b, "k");
    tb_u32(&b, SH_REQ_MATCH_COUNT);
    tb_str(&b, "v");
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_UNKNOWN_MATCH);

    b = req_begin(); /* date match cut short */
    tb_u32(&b, SH_REQ_OP_INFO_KEY_FIELD);
    tb_str(&b, "k");
    tb_u32(&b, SH_REQ_MATCH_ON);
    tb_u32(&b, 0);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TRUNCATED);

    b = req_begin(); /* anchor hash of 19 bytes */
    tb_u32(&b, SH_REQ_OP_ANCHOR_HASH);
    tb_u32(&b, 0);
    tb_data(&b, "0123456789012345678", 19);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_BAD_HASH_LENGTH);

    b = req_begin(); /* and with one operand */
    tb_u32(&b, SH_REQ_OP_AND);
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TRUNCATED);
}

static void hostile_oids(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"", 0},                                           /* empty */
        {"\x80\x01", 2},                                   /* non-minimal first arc */
        {"\x2a\x80\x01", 3},                               /* non-minimal later arc */
        {"\x2a\x86", 2},                                   /* last arc unterminated */
        {"\x2a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11}, /* arc above 2^64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (uint32_t op = SH_REQ_OP_CERT_GENERIC; op <= SH_REQ_OP_CERT_FIELD_DATE; op++) {
            if (op != SH_REQ_OP_CERT_GENERIC && op != SH_REQ_OP_CERT_POLICY &&
                op != SH_REQ_OP_CERT_FIELD_DATE)
                continue;
            tb b = req_begin();
            tb_u32(&b, op);
            tb_u32(&b, 0);
            tb_data(&b, bad[i].bytes, bad[i].len);
            tb_u32(&b, SH_REQ_MATCH_EXISTS);
            tb_done(&b);
            expect_blob_error(&b, SH_E_REQ_BAD_OID);
        }
    }
    uint8_t longest[SH_MAX_REQUIREMENT_OID_LEN + 1];
    memset(longest, 0x01, sizeof longest);
    tb b = req_begin();
    tb_u32(&b, SH_REQ_OP_CERT_GENERIC);
    tb_u32(&b, 0);
    tb_data(&b, longest, sizeof longest);
    tb_u32(&b, SH_REQ_MATCH_EXISTS);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_BAD_OID);
    /* the largest arc that fits 64 bits is fine */
    b = req_begin();
    tb_u32(&b, SH_REQ_OP_CERT_GENERIC);
    tb_u32(&b, 0);
    tb_data(&b, "\x2a\x81\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
    tb_u32(&b, SH_REQ_MATCH_EXISTS);
    check_binary(&b, "certificate leaf[field.1.2.18446744073709551615] /* exists */",
                 "certificate leaf[field.1.2.18446744073709551615] /* exists */");
}

static void depth_and_op_count_limits(void **state)
{
    (void)state;
    /* nots: level 999 is the deepest Apple's interpreter evaluates */
    for (unsigned nots = SH_MAX_REQUIREMENT_DEPTH - 1; nots <= SH_MAX_REQUIREMENT_DEPTH; nots++) {
        tb b = req_begin();
        for (unsigned i = 0; i < nots; i++)
            tb_u32(&b, SH_REQ_OP_NOT);
        tb_u32(&b, SH_REQ_OP_TRUE);
        tb_done(&b);
        if (nots < SH_MAX_REQUIREMENT_DEPTH) {
            uint8_t *copy = exact(b.p, b.len);
            sh_cursor c = sh_cursor_make(copy, b.len);
            sh_req_info info;
            sh_error err = {0};
            assert_int_equal(sh_req_check(&c, &info, &err), SH_E_OK);
            assert_int_equal(info.max_depth, SH_MAX_REQUIREMENT_DEPTH);
            free(copy);
            expect_lossless_round_trip(b.p, b.len);
            free(b.p);
        } else {
            expect_blob_error(&b, SH_E_REQ_TOO_DEEP);
        }
    }
    /* a bomb of nested ands and nots, 100000 levels */
    tb b = req_begin();
    for (unsigned i = 0; i < 100000; i++)
        tb_u32(&b, i % 2 ? SH_REQ_OP_NOT : SH_REQ_OP_AND);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TOO_DEEP);

    /* skip prefixes count as levels too, as in Apple's eval() */
    b = req_begin();
    for (unsigned i = 0; i < SH_MAX_REQUIREMENT_DEPTH; i++) {
        tb_u32(&b, SH_REQ_OP_GENERIC_SKIP | 100);
        tb_u32(&b, 0);
    }
    tb_u32(&b, SH_REQ_OP_TRUE);
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TOO_DEEP);

    /* a balanced tree of ands, 16 levels: 131071 opcodes, shallow but too many */
    b = req_begin();
    struct {
        unsigned level;
    } stack[64];
    unsigned sp = 0;
    stack[sp++].level = 1;
    while (sp) {
        unsigned level = stack[--sp].level;
        if (level < 17) {
            tb_u32(&b, SH_REQ_OP_AND);
            stack[sp++].level = level + 1;
            stack[sp++].level = level + 1;
        } else {
            tb_u32(&b, SH_REQ_OP_TRUE);
        }
    }
    tb_done(&b);
    expect_blob_error(&b, SH_E_REQ_TOO_MANY_OPS);

    /* the compiler refuses what the decoder would refuse */
    size_t len = SH_MAX_REQUIREMENT_DEPTH * 2 + 16;
    char *text = malloc(len * 2);
    size_t o = 0;
    for (unsigned i = 0; i < SH_MAX_REQUIREMENT_DEPTH; i++)
        text[o++] = '!';
    memcpy(text + o, " always", 8);
    expect_compile_error(text, SH_E_REQ_TOO_DEEP, 0, 0);
    o = 0;
    for (unsigned i = 0; i < SH_MAX_REQUIREMENT_DEPTH + 1; i++)
        text[o++] = '(';
    text[o] = '\0';
    expect_compile_error(text, SH_E_REQ_TOO_DEEP, 0, 0);
    free(text);
    /* a 1000-term and-chain nests 999 deep in binary: too deep to evaluate */
    size_t cap = 1000 * 12 + 16;
    text = malloc(cap);
    o = 0;
    for (unsigned i = 0; i < 1000; i++)
        o += (size_t)snprintf(text + o, cap - o, "%salways", i ? " and " : "");
    expect_compile_error(text, SH_E_REQ_TOO_DEEP, 0, 0);
    free(text);
}

/* Every cut of a rich blob (its length field adjusted to the cut) fails cleanly, never reads
 * past the cut, and never succeeds. */
static void truncated_everywhere(void **state)
{
    (void)state;
    size_t n;
    uint8_t *blob = compile_ok(DEVID_DR " and (info[k] >= \"1.0\" or certificate "
                                        "leaf[timestamp.1.2.3] < <2019-01-01 00:00:00 +0000>) and "
                                        "! cdhash H\"0123456789abcdef0123456789abcdef01234567\"",
                               &n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = exact(blob, cut);
        if (cut >= 8) {
            copy[4] = (uint8_t)(cut >> 24);
            copy[5] = (uint8_t)(cut >> 16);
            copy[6] = (uint8_t)(cut >> 8);
            copy[7] = (uint8_t)cut;
        }
        sh_cursor c = sh_cursor_make(copy, cut);
        sh_error err = {0};
        sh_err e = sh_req_check(&c, NULL, &err);
        if (e != SH_E_REQ_TRUNCATED && e != SH_E_REQ_BAD_LENGTH && e != SH_E_REQ_DATA_PAST_END &&
            e != SH_E_REQ_DATA_UNPADDED)
            fail_msg("cut at %zu: %s", cut, sh_err_name(e));
        if (cut >= 12 && err.offset > cut)
            fail_msg("cut at %zu: error offset %llu past the data", cut,
                     (unsigned long long)err.offset);
        free(copy);
    }
    /* and the set around it, cut everywhere with its length field kept: truncated */
    size_t sn;
    char settext[2048];
    char *single = decode_ok(blob, n, 0);
    snprintf(settext, sizeof settext, "designated => %s library => always", single);
    free(single);
    uint8_t *set = compile_ok(settext, &sn);
    for (size_t cut = 0; cut < sn; cut++) {
        uint8_t *copy = exact(set, cut);
        sh_cursor c = sh_cursor_make(copy, cut);
        sh_error err = {0};
        assert_int_equal(sh_req_check(&c, NULL, &err), SH_E_REQ_TRUNCATED);
        free(copy);
    }
    free(set);
    free(blob);
}

/* Set: {magic, length, count, index...} followed by one valid requirement at offset off. */
static tb set_begin(uint32_t count)
{
    tb s = {0};
    tb_u32(&s, SH_REQSET_MAGIC);
    tb_u32(&s, 0);
    tb_u32(&s, count);
    return s;
}

static void tb_always(tb *b)
{
    tb r = req_begin();
    tb_u32(&r, SH_REQ_OP_TRUE);
    tb_done(&r);
    tb_raw(b, r.p, r.len);
    free(r.p);
}

static void hostile_sets(void **state)
{
    (void)state;
    tb s = set_begin(0xffffffffu); /* count overflow */
    tb_u32(&s, 3);
    tb_u32(&s, 20);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_TOO_MANY_ENTRIES);

    s = set_begin(SH_MAX_REQUIREMENT_SET_ENTRIES + 1); /* count above the limit, index fits */
    for (uint32_t i = 0; i <= SH_MAX_REQUIREMENT_SET_ENTRIES; i++) {
        tb_u32(&s, i);
        tb_u32(&s, 0);
    }
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_TOO_MANY_ENTRIES);

    s = set_begin(1); /* index runs past the length */
    tb_set_u32(&s, 4, 16);
    tb_u32(&s, 3);
    expect_blob_error(&s, SH_E_REQSET_TOO_MANY_ENTRIES);

    s = set_begin(1); /* offset 0: absent */
    tb_u32(&s, 3);
    tb_u32(&s, 0);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_ENTRY_ABSENT);

    s = set_begin(1); /* offset into the index */
    tb_u32(&s, 3);
    tb_u32(&s, 12);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_INDEX_OVERLAP);

    s = set_begin(1); /* offset past the end */
    tb_u32(&s, 3);
    tb_u32(&s, 0xfffffff0u);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_ENTRY_OUT_OF_BOUNDS);

    s = set_begin(1); /* entry longer than the set */
    tb_u32(&s, 3);
    tb_u32(&s, 20);
    tb_always(&s);
    tb_set_u32(&s, 24, 0x1000);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_ENTRY_OUT_OF_BOUNDS);

    s = set_begin(2); /* two entries, the second inside the first's identifier bytes */
    tb_u32(&s, 1);
    tb_u32(&s, 28);
    tb_u32(&s, 3);
    tb_u32(&s, 48);
    {
        tb inner = req_begin();
        tb_u32(&inner, SH_REQ_OP_TRUE);
        tb_done(&inner);
        tb outer = req_begin();
        tb_u32(&outer, SH_REQ_OP_IDENT);
        tb_data(&outer, inner.p, inner.len);
        tb_done(&outer);
        tb_raw(&s, outer.p, outer.len);
        free(inner.p);
        free(outer.p);
    }
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_OVERLAP);

    s = set_begin(2); /* the same blob twice */
    tb_u32(&s, 1);
    tb_u32(&s, 28);
    tb_u32(&s, 3);
    tb_u32(&s, 28);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_OVERLAP);

    s = set_begin(2); /* duplicate types */
    tb_u32(&s, 3);
    tb_u32(&s, 28);
    tb_u32(&s, 3);
    tb_u32(&s, 44);
    tb_always(&s);
    tb_always(&s);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_DUPLICATE_TYPE);

    s = set_begin(1); /* entry of the wrong magic */
    tb_u32(&s, 3);
    tb_u32(&s, 20);
    tb_always(&s);
    tb_set_u32(&s, 20, SH_REQSET_MAGIC);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQSET_BAD_ENTRY_MAGIC);

    s = set_begin(1); /* entry shorter than a requirement header */
    tb_u32(&s, 3);
    tb_u32(&s, 20);
    tb_always(&s);
    tb_set_u32(&s, 24, 8);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    expect_blob_error(&s, SH_E_REQ_BAD_LENGTH);

    s = set_begin(1); /* an entry whose program is bad: the error names the entry */
    tb_u32(&s, 3);
    tb_u32(&s, 20);
    tb_always(&s);
    tb_set_u32(&s, 32, 1234);
    tb_set_u32(&s, 4, (uint32_t)s.len);
    uint8_t *copy = exact(s.p, s.len);
    sh_cursor c = sh_cursor_make(copy, s.len);
    sh_error err = {0};
    assert_int_equal(sh_req_check(&c, NULL, &err), SH_E_REQ_UNKNOWN_OPCODE);
    assert_int_equal(err.index, 0);
    assert_int_equal(err.offset, 32);
    assert_int_equal(err.value, 1234);
    char msg[256];
    sh_error_format(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "RequirementSet entry #0 at offset 0x20"));
    free(copy);
    free(s.p);

    s = set_begin(0); /* set length below its header */
    tb_set_u32(&s, 4, 8);
    expect_blob_error(&s, SH_E_REQ_BAD_LENGTH);
}

/* ---- compiler ---- */

static void compile_errors_name_the_column(void **state)
{
    (void)state;
    expect_compile_error("identifier \"abc", SH_E_REQ_TEXT_BAD_TOKEN, 1, 12);
    expect_compile_error("identifier \"a\\nb\"", SH_E_REQ_TEXT_BAD_TOKEN, 1, 14);
    expect_compile_error("always and\n  @", SH_E_REQ_TEXT_BAD_TOKEN, 2, 3);
    expect_compile_error("always /* open", SH_E_REQ_TEXT_BAD_TOKEN, 1, 8);
    expect_compile_error("always and", SH_E_REQ_SYNTAX, 1, 11);
    expect_compile_error("always always", SH_E_REQ_SYNTAX, 1, 8);
    expect_compile_error("(always", SH_E_REQ_SYNTAX, 1, 8);
    expect_compile_error("info[k = v", SH_E_REQ_SYNTAX, 1, 8);
    expect_compile_error("identifier", SH_E_REQ_SYNTAX, 1, 11);
    expect_compile_error("cdhash H\"0123\"x", SH_E_REQ_SYNTAX, 1, 15);
    expect_compile_error("info[k] = 0x123", SH_E_REQ_TEXT_BAD_HEX, 1, 11);
    expect_compile_error("info[k] = 0x", SH_E_REQ_TEXT_BAD_TOKEN, 1, 11);
    expect_compile_error("certificate leaf = H\"0011\"", SH_E_REQ_TEXT_BAD_HEX, 1, 20);
    expect_compile_error("certificate leaf[field.1.45] exists", SH_E_REQ_TEXT_BAD_OID, 1, 18);
    expect_compile_error("certificate leaf[field.3.1]", SH_E_REQ_TEXT_BAD_OID, 1, 18);
    expect_compile_error("certificate leaf[field.1]", SH_E_REQ_TEXT_BAD_OID, 1, 18);
    expect_compile_error("certificate leaf[field.1.2.18446744073709551616]",
                         SH_E_REQ_TEXT_BAD_OID, 1, 18);
    expect_compile_error("certificate leaf[\"field.1..2\"]", SH_E_REQ_TEXT_BAD_OID, 1, 18);
    expect_compile_error("certificate leaf[issuer.CN] = x", SH_E_REQ_TEXT_BAD_FIELD, 1, 18);
    expect_compile_error("certificate leaf = /System/cert", SH_E_REQ_TEXT_FILE_REFERENCE, 1, 20);
    expect_compile_error("anchor = \"cert.der\"", SH_E_REQ_TEXT_FILE_REFERENCE, 1, 10);
    expect_compile_error("info[k] = timestamp \"2019\"", SH_E_REQ_TEXT_BAD_DATE, 1, 21);
    expect_compile_error("info[k] = timestamp \"20190230000000Z\"", SH_E_REQ_TEXT_BAD_DATE, 1, 21);
    expect_compile_error("info[k] < <2019-13-01 00:00:00 +0000>", SH_E_REQ_TEXT_BAD_DATE, 1, 11);
    expect_compile_error("info[k] < <2019-01-01 00:00 +0000>", SH_E_REQ_TEXT_BAD_DATE, 1, 11);
    expect_compile_error("info[k] < <999999999999999-01-01 00:00:00 +0000>",
                         SH_E_REQ_TEXT_BAD_DATE, 1, 11);
    expect_compile_error("designated => always\nfoo => never", SH_E_REQ_SYNTAX, 2, 1);
    expect_compile_error("designated always", SH_E_REQ_SYNTAX, 1, 12);
    expect_compile_error("raw(H\"00000006\")", SH_E_REQ_TEXT_BAD_RAW, 1, 5);
    expect_compile_error("raw(H\"0000000100000001\")", SH_E_REQ_TEXT_BAD_RAW, 1, 5);
    expect_compile_error("opcode(0x40000002) always", SH_E_REQ_TEXT_BAD_RAW, 1, 8);
    expect_compile_error("opcode(0x00000020, H\"\")", SH_E_REQ_TEXT_BAD_RAW, 1, 8);
    expect_compile_error("opcode(0x40000002, H\"\") always", SH_E_REQ_TEXT_BAD_RAW, 1, 8);
    expect_compile_error("identifier \"a\xc0\"", SH_E_REQ_TEXT_BAD_TOKEN, 1, 14);

    /* text that is not NUL-terminated is read only up to its length */
    char text[6] = {'a', 'l', 'w', 'a', 'y', 's'};
    uint8_t *blob;
    size_t n;
    sh_error err = {0};
    assert_int_equal(sh_req_compile(text, sizeof text, SH_REQ_PARSE_SINGLE, NULL, &blob, &n, NULL,
                                    &err),
                     SH_E_OK);
    assert_int_equal(n, 16);
    free(blob);
}

static void compile_accepts_apple_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"anchor generic apple", "anchor apple generic"},
        {"certificate trusted", "anchor trusted"},
        {"cert trusted", "anchor trusted"},
        {"true and false", "always and never"},
        {"anchor[field.1.2.3]", "certificate root[field.1.2.3] /* exists */"},
        {"anchor H\"0000000000000000000000000000000000000000\"",
         "certificate root = H\"0000000000000000000000000000000000000000\""},
        {"cert 1 == H\"0000000000000000000000000000000000000000\"",
         "certificate 1 = H\"0000000000000000000000000000000000000000\""},
        {"certificate leaf[extension.1.2.3] exists", "certificate leaf[field.1.2.3] /* exists */"},
        {"identifier = com.foo", "identifier \"com.foo\""},
        {"identifier == \"x\"", "identifier x"},
        {"cdhash = H\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\"",
         "cdhash H\"abcdef0123456789abcdef0123456789abcdef01\""},
        {"platform 2", "platform = 2"},
        {"info[k] == x", "info[k] = x"},
        {"info[k] = *mid*", "info[k] ~ mid"},
        {"info[k] = 0x41", "info[k] = A"},
        {"info[\"k\"]", "info[k] /* exists */"},
        {"not always", "! always"},
        {"always;;", "always"},
        {"# comment\nalways // more\n/* and */ and never", "always and never"},
        {"always\r\n\tand never", "always and never"},
        {"(always)", "always"},
        {"((always or never))", "always or never"},
        {"platform = 4294967295", "platform = -1"},
        {"platform = 99999999999999999999999", "platform = -1"},
        {"certificate 4294967295 trusted", "certificate roottrusted"},
        {"certificate -2147483648 trusted", "certificate -2147483648trusted"},
        {"info[k] >= timestamp \"20190101000000Z\"", "info[k] >= <2019-01-01 00:00:00 +0000>"},
        {"anchor apple \"some name\"", "anchor apple \"some name\""},
        {"entitlement[e] = \"\"", "entitlement[e] = \"\""},
        {"(\"x\")", "(x)"},
        {"(not)", "(not)"},
        {"identifier opcode and identifier raw", "identifier opcode and identifier raw"},
        {"opcode(1073741826) identifier x", "identifier x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *blob = compile_ok(cases[i].in, &n);
        char *text = decode_ok(blob, n, 0);
        if (strcmp(text, cases[i].out) != 0)
            fail_msg("\"%s\" -> \"%s\", wanted \"%s\"", cases[i].in, text, cases[i].out);
        free(text);
        free(blob);
    }
    size_t n;
    uint8_t *blob = compile_ok("raw(H\"00000001\") and raw(H\"000000020000000178000000\")", &n);
    char *text = decode_ok(blob, n, 0);
    assert_string_equal(text, "always and identifier x");
    free(text);
    free(blob);
}

/* Round trips that need care: a set entry "invalid =>" after a bare `anchor apple`, chains of
 * flagged opcodes as deep as the decoder allows, and the compiler's own limits. */
static void round_trip_edges(void **state)
{
    (void)state;
    size_t n;
    uint8_t *blob = compile_ok("designated => anchor apple\ninvalid => always\n", &n);
    char *text = decode_ok(blob, n, 0);
    assert_string_equal(text, "invalid => always\ndesignated => anchor apple\n");
    free(text);
    expect_lossless_round_trip(blob, n);
    free(blob);

    /* flagged nots down to the deepest level: the text must not nest deeper than the binary */
    tb b = req_begin();
    for (unsigned i = 0; i < SH_MAX_REQUIREMENT_DEPTH - 1; i++)
        tb_u32(&b, 0x40000000u | SH_REQ_OP_NOT);
    tb_u32(&b, 0x01000000u | SH_REQ_OP_TRUE);
    tb_done(&b);
    expect_lossless_round_trip(b.p, b.len);
    free(b.p);
    expect_compile_error("opcode(0x40000001) opcode(0x40000001) always", SH_E_REQ_TEXT_BAD_RAW, 1,
                         20);

    /* more distinct types than a set may hold */
    char set[2048];
    size_t o = 0;
    for (unsigned i = 0; i <= SH_MAX_REQUIREMENT_SET_ENTRIES; i++)
        o += (size_t)snprintf(set + o, sizeof set - o, "%u => always\n", i + 10);
    expect_compile_error(set, SH_E_REQSET_TOO_MANY_ENTRIES, SH_MAX_REQUIREMENT_SET_ENTRIES + 1, 1);

    /* more opcodes than allowed: the op limit fires while parsing, before the depth check */
    size_t cap = (size_t)SH_MAX_REQUIREMENT_OPS * 8;
    char *big = malloc(cap);
    o = 0;
    for (unsigned i = 0; i < SH_MAX_REQUIREMENT_OPS / 3 + 1; i++)
        o += (size_t)snprintf(big + o, cap - o, "%s(always and never)", i ? " or " : "");
    expect_compile_error(big, SH_E_REQ_TOO_MANY_OPS, 0, 0);
    free(big);
}

/* ---- output buffers and allocation failures ---- */

static void caller_buffer_sizes(void **state)
{
    (void)state;
    size_t n;
    uint8_t *blob = compile_ok(DEVID_DR, &n);
    sh_cursor c = sh_cursor_make(blob, n);
    char buf[512];
    size_t len = 0;
    sh_error err = {0};
    assert_int_equal(sh_req_to_text(&c, 0, buf, sizeof buf, &len, NULL, &err), SH_E_OK);
    assert_string_equal(buf, DEVID_DR);
    assert_int_equal(len, strlen(DEVID_DR));
    size_t need = strlen(DEVID_DR) + 1;
    char *small = malloc(need - 1);
    assert_int_equal(sh_req_to_text(&c, 0, small, need - 1, &len, NULL, &err),
                     SH_E_REQ_TEXT_TOO_LONG);
    assert_int_equal(err.value, need);
    assert_int_equal(small[0], '\0');
    free(small);
    small = malloc(need);
    assert_int_equal(sh_req_to_text(&c, 0, small, need, &len, NULL, &err), SH_E_OK);
    assert_string_equal(small, DEVID_DR);
    free(small);
    assert_int_equal(sh_req_to_text(&c, 0, NULL, 0, &len, NULL, &err), SH_E_REQ_TEXT_TOO_LONG);
    assert_int_equal(err.value, need);
    free(blob);
}

static void allocation_failures(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text, "designated => %s library => %s", DEVID_DR, DEVID_DR);
    for (int k = 0;; k++) {
        failing_alloc f;
        sh_allocator a = failing_alloc_start(&f, k);
        uint8_t *blob = NULL;
        size_t n = 0;
        sh_error err = {0};
        sh_err e = sh_req_compile(text, strlen(text), SH_REQ_PARSE_AUTO, &a, &blob, &n, NULL, &err);
        if (e == SH_E_OK) {
            assert_int_equal(f.live, 1);
            sh_free(&a, blob);
            assert_int_equal(f.live, 0);
            break;
        }
        assert_int_equal(e, SH_E_NO_MEMORY);
        assert_int_equal(f.live, 0);
        assert_true(k < 1000);
    }
    size_t n;
    uint8_t *blob = compile_ok(text, &n);
    for (int k = 0;; k++) {
        failing_alloc f;
        sh_allocator a = failing_alloc_start(&f, k);
        sh_cursor c = sh_cursor_make(blob, n);
        char *out = NULL;
        size_t len;
        sh_error err = {0};
        sh_err e = sh_req_to_text_alloc(&c, 0, &a, &out, &len, NULL, &err);
        if (e == SH_E_OK) {
            assert_int_equal(f.live, 1);
            sh_free(&a, out);
            break;
        }
        assert_int_equal(e, SH_E_NO_MEMORY);
        assert_null(out);
        assert_int_equal(f.live, 0);
        assert_true(k < 1000);
    }
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_table),
        cmocka_unit_test(table_covers_every_opcode_and_match),
        cmocka_unit_test(right_nested_chains_print_like_apple),
        cmocka_unit_test(legacy_info_key_value),
        cmocka_unit_test(flagged_and_generic_opcodes),
        cmocka_unit_test(cert_field_keys_outside_subject),
        cmocka_unit_test(quoting_rules),
        cmocka_unit_test(dates_cover_the_int64_range),
        cmocka_unit_test(set_text_and_types),
        cmocka_unit_test(set_layout_is_reported),
        cmocka_unit_test(sparkle_detached_requirements),
        cmocka_unit_test(real_designated_requirements),
        cmocka_unit_test(hostile_headers),
        cmocka_unit_test(hostile_programs),
        cmocka_unit_test(hostile_oids),
        cmocka_unit_test(depth_and_op_count_limits),
        cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(hostile_sets),
        cmocka_unit_test(compile_errors_name_the_column),
        cmocka_unit_test(compile_accepts_apple_spellings),
        cmocka_unit_test(round_trip_edges),
        cmocka_unit_test(caller_buffer_sizes),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
