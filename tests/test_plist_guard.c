/* plist_guard: the strict XML subset, binary plist validation, limits, and what libplist does
 * with what the guard lets through.  Inputs live in exactly sized heap buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "failing_alloc.h"
#include "sample_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plist_guard.h"

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void b_put(buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void b_str(buf *b, const char *s) { b_put(b, s, strlen(s)); }
static void b_u8(buf *b, uint8_t v) { b_put(b, &v, 1); }
static void b_be(buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;)
        b_u8(b, (uint8_t)(v >> (8 * i)));
}
static void b_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static sh_err guard_bytes(const void *p, size_t n, sh_plist_stats *st, sh_error *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, p, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_err r = sh_plist_guard(&c, NULL, st, err);
    free(copy);
    return r;
}

static sh_err guard(const char *s, sh_plist_stats *st, sh_error *err)
{
    return guard_bytes(s, strlen(s), st, err);
}

/* Guard then libplist; returns the libplist node type or -1. */
static int parse_type(const void *p, size_t n, sh_error *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, p, n);
    sh_cursor c = sh_cursor_make(copy, n);
    plist_t pl = NULL;
    sh_err r = sh_plist_parse(&c, NULL, &pl, NULL, err);
    free(copy);
    if (r != SH_E_OK) {
        assert_null(pl);
        return -1;
    }
    int t = (int)plist_get_node_type(pl);
    plist_free(pl);
    return t;
}

#define PL "<plist version=\"1.0\">"
#define PLE "</plist>"
#define HEAD                                                                                      \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST "   \
    "1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"

/* ---- valid XML ------------------------------------------------------------------------------ */

static void xml_accepts_apple_plists(void **state)
{
    (void)state;
    sh_plist_stats st;
    sh_error err = {0};
    static const char doc[] =
        HEAD PL "\n<dict>\n\t<key>a</key>\n\t<true/>\n\t<key>b</key>\n\t<array>\n"
                "\t\t<string>x &amp; &lt;y&gt; &quot;&apos; &#65;&#x42;</string>\n"
                "\t\t<string></string><string/>\n"
                "\t\t<integer>-42</integer><integer> 0x7fffffffffffffff </integer>\n"
                "\t\t<real>1.5e-3</real><real>-inf</real><real>.5</real>\n"
                "\t\t<date>2024-02-29T23:59:59Z</date>\n"
                "\t\t<data>\n\tAAECAw==\n\t</data><data/><data></data>\n"
                "\t\t<false></false><dict/><array></array>\n"
                "\t</array>\n\t<!-- a comment -->\n\t<key>c<!-- inside --></key>"
                "<string><![CDATA[<not markup>]]></string>\n"
                "</dict>\n" PLE "\n<!-- trailing comment -->\n";
    assert_int_equal(guard(doc, &st, &err), SH_E_OK);
    assert_int_equal(st.format, SH_PLIST_FORMAT_XML);
    assert_int_equal(st.dict_keys, 3);
    assert_int_equal(st.max_depth, 3);
    assert_int_equal(st.nodes, 1 + 3 + 1 + 1 + 15 + 1);
    assert_false(st.has_big_uint);
    assert_int_equal(parse_type(doc, strlen(doc), &err), PLIST_DICT);

    /* unsigned values above INT64_MAX are allowed but flagged */
    static const char big[] = PL "<integer>18446744073709551615</integer>" PLE;
    assert_int_equal(guard(big, &st, &err), SH_E_OK);
    assert_true(st.has_big_uint);
    assert_int_equal(st.big_uint_offset, strlen(PL));
    assert_int_equal(parse_type(big, strlen(big), &err), PLIST_UINT);
}

/* ---- hostile XML: table ------------------------------------------------------------------- */

typedef struct xcase {
    const char *doc;
    sh_err code;
    long offset; /* -1: not checked */
} xcase;

static const xcase xml_cases[] = {
    /* characters */
    {"\xEF\xBB\xBF" PL "<true/>" PLE, SH_E_PLIST_XML_SYNTAX, 0},
    {PL "<string>\xC3\x28</string>" PLE, SH_E_PLIST_XML_BAD_CHAR, 29},
    {PL "<string>\xED\xA0\x80</string>" PLE, SH_E_PLIST_XML_BAD_CHAR, 29},
    {PL "<string>\x01</string>" PLE, SH_E_PLIST_XML_BAD_CHAR, 29},
    {PL "<string>\xEF\xBF\xBE</string>" PLE, SH_E_PLIST_XML_BAD_CHAR, 29},
    /* prolog */
    {" <?xml version=\"1.0\"?>" PL "<true/>" PLE, SH_E_PLIST_XML_PI, 1},
    {"<?xml version=\"1.0\" encoding=\"UTF-16\"?>" PL "<true/>" PLE, SH_E_PLIST_XML_PI, 30},
    {"<?xml version=\"1.0\" foo=\"x\"?>" PL "<true/>" PLE, SH_E_PLIST_XML_PI, -1},
    {"<?xml version=\"1.0?>" PL "<true/>" PLE, SH_E_PLIST_XML_PI, -1},
    {"<?xml-stylesheet href=\"a\"?>" PL "<true/>" PLE, SH_E_PLIST_XML_PI, 0},
    {PL "<?php ?><true/>" PLE, SH_E_PLIST_XML_PI, 21},
    {"<!DOCTYPE plist>\n<!DOCTYPE plist>" PL "<true/>" PLE, SH_E_PLIST_XML_DTD, 17},
    {"<!DOCTYPE plist [ ]>" PL "<true/>" PLE, SH_E_PLIST_XML_DTD, 16},
    {"<!DOCTYPE plist PUBLIC \"a>b\">" PL "<true/>" PLE, SH_E_PLIST_XML_DTD, 25},
    {"<!DOCTYPE plist" PL "<true/>" PLE, SH_E_PLIST_XML_DTD, 15},
    {PL "<!DOCTYPE plist><true/>" PLE, SH_E_PLIST_XML_DTD, 21},
    {"<!doctype plist>" PL "<true/>" PLE, SH_E_PLIST_XML_SYNTAX, 0},
    /* comments */
    {"<!-- a -- b -->" PL "<true/>" PLE, SH_E_PLIST_XML_COMMENT, 7},
    {"<!-- a --->" PL "<true/>" PLE, SH_E_PLIST_XML_COMMENT, 7},
    {PL "<true/>" PLE "<!-- open", SH_E_PLIST_XML_COMMENT, 36},
    {PL "<string>a<!-- x -- y --></string>" PLE, SH_E_PLIST_XML_COMMENT, 37},
    /* entities */
    {PL "<string>&lol;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&amp</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&ampersand;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#0;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#xD800;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#x110000;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#000000065;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#x;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&#1;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    {PL "<string>&# 65;</string>" PLE, SH_E_PLIST_XML_ENTITY, 29},
    /* elements */
    {PL "<uid>1</uid>" PLE, SH_E_PLIST_XML_UNKNOWN_ELEMENT, 21},
    {PL "<Dict/>" PLE, SH_E_PLIST_XML_UNKNOWN_ELEMENT, 21},
    {PL "<dict></array>" PLE, SH_E_PLIST_XML_MISMATCHED_TAG, 27},
    {PL "<array><true/>", SH_E_PLIST_XML_MISMATCHED_TAG, 21},
    {PL "<string>abc", SH_E_PLIST_XML_MISMATCHED_TAG, 21},
    {PL "<integer>1</real>" PLE, SH_E_PLIST_XML_MISMATCHED_TAG, 31},
    {PL "<dict foo=\"1\"/>" PLE, SH_E_PLIST_XML_SYNTAX, 27},
    {PL "<dict/ >" PLE, SH_E_PLIST_XML_SYNTAX, 26},
    {PL "<true/>text" PLE, SH_E_PLIST_XML_SYNTAX, 28},
    {"text" PL "<true/>" PLE, SH_E_PLIST_XML_SYNTAX, 0},
    {"<plist version=\"1>\"><true/>" PLE, SH_E_PLIST_XML_SYNTAX, 17},
    {"<plist version=1.0><true/>" PLE, SH_E_PLIST_XML_SYNTAX, 15},
    {PL "<string>a<b/></string>" PLE, SH_E_PLIST_XML_SYNTAX, 30},
    {PL "<![CDATA[x]]>" PLE, SH_E_PLIST_XML_SYNTAX, 21},
    {PL "<string><![CDATA[x</string>" PLE, SH_E_PLIST_XML_SYNTAX, 29},
    {PL "<>" PLE, SH_E_PLIST_XML_SYNTAX, 21},
    /* structure */
    {"<dict/>", SH_E_PLIST_XML_STRUCTURE, 0},
    {"<plist/>", SH_E_PLIST_XML_STRUCTURE, 0},
    {"", SH_E_PLIST_UNKNOWN_FORMAT, 0},
    {"   ", SH_E_PLIST_XML_STRUCTURE, 3},
    {PL PLE, SH_E_PLIST_XML_STRUCTURE, 21},
    {PL "<true/><false/>" PLE, SH_E_PLIST_XML_STRUCTURE, 28},
    {PL "<true/>" PLE "<true/>", SH_E_PLIST_XML_STRUCTURE, 36},
    {PL "<true/>" PLE PL "<true/>" PLE, SH_E_PLIST_XML_STRUCTURE, 36},
    {PL "<plist><true/></plist>" PLE, SH_E_PLIST_XML_STRUCTURE, 21},
    {PL "<key>a</key>" PLE, SH_E_PLIST_XML_STRUCTURE, 21},
    {PL "<array><key>a</key></array>" PLE, SH_E_PLIST_XML_STRUCTURE, 28},
    {PL "<dict><true/></dict>" PLE, SH_E_PLIST_XML_STRUCTURE, 27},
    {PL "<dict><key>a</key></dict>" PLE, SH_E_PLIST_XML_STRUCTURE, 39},
    {PL "<dict><key>a</key><key>b</key><true/></dict>" PLE, SH_E_PLIST_XML_STRUCTURE, 39},
    {PL "<dict><key/><true/></dict>" PLE, SH_E_PLIST_XML_STRUCTURE, 27},
    /* scalars */
    {PL "<integer>010</integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer>12abc</integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer>- 5</integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer></integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer/>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer>0x</integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<integer>&#49;</integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 30},
    {PL "<integer>1<!-- c --></integer>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 31},
    {PL "<integer>18446744073709551616</integer>" PLE, SH_E_PLIST_XML_INTEGER_RANGE, 21},
    {PL "<integer>-9223372036854775809</integer>" PLE, SH_E_PLIST_XML_INTEGER_RANGE, 21},
    {PL "<integer>0x10000000000000000</integer>" PLE, SH_E_PLIST_XML_INTEGER_RANGE, 21},
    {PL "<real>1.5e</real>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<real>0x1p3</real>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<real/>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<date>2024-13-01T00:00:00Z</date>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<date>2024-01-01 00:00:00</date>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<date/>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<data>AAE</data>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<data>AA=A</data>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<data>A===</data>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<data>AA*A</data>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    {PL "<true>yes</true>" PLE, SH_E_PLIST_XML_BAD_SCALAR, 21},
    /* duplicate keys (after decoding) */
    {PL "<dict><key>a</key><true/><key>a</key><false/></dict>" PLE, SH_E_PLIST_DUPLICATE_KEY, 46},
    {PL "<dict><key>a</key><true/><key>&#97;</key><false/></dict>" PLE, SH_E_PLIST_DUPLICATE_KEY,
     46},
    {PL "<dict><key>ab</key><true/><key>a<![CDATA[b]]></key><false/></dict>" PLE,
     SH_E_PLIST_DUPLICATE_KEY, 47},
    {PL "<dict><key>ab</key><true/><key>a<!-- -->b</key><false/></dict>" PLE,
     SH_E_PLIST_DUPLICATE_KEY, 47},
};

static void xml_hostile_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof xml_cases / sizeof xml_cases[0]; i++) {
        sh_error err = {0};
        sh_plist_stats st;
        sh_err r = guard(xml_cases[i].doc, &st, &err);
        if (r != xml_cases[i].code)
            fail_msg("case %zu (%s): got %s, expected %s", i, xml_cases[i].doc, sh_err_name(r),
                     sh_err_name(xml_cases[i].code));
        if (xml_cases[i].offset >= 0 && err.offset != (uint64_t)xml_cases[i].offset)
            fail_msg("case %zu (%s): offset %llu, expected %ld", i, xml_cases[i].doc,
                     (unsigned long long)err.offset, xml_cases[i].offset);
        assert_int_equal(parse_type(xml_cases[i].doc, strlen(xml_cases[i].doc), &err), -1);
    }
}

/* libplist itself accepts some of these and reads them differently: the reason for the guard. */
static void libplist_differentials_are_refused(void **state)
{
    (void)state;
    static const char *const docs[] = {
        PL "<integer>010</integer>" PLE,                       /* libplist: 8 (octal) */
        PL "<integer>12abc</integer>" PLE,                     /* libplist: 12 */
        PL "<true/>" PLE "<garbage",                           /* libplist stops at the root */
        PL "<dict><key>a</key><true/><key>a</key><false/></dict>" PLE, /* libplist: last wins */
        PL "<string>&ampersand;</string>" PLE,                 /* libplist: "&" */
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        plist_t p = NULL;
        plist_from_xml(docs[i], (uint32_t)strlen(docs[i]), &p);
        assert_non_null(p); /* libplist alone takes it */
        plist_free(p);
        sh_error err = {0};
        assert_int_not_equal(guard(docs[i], NULL, &err), SH_E_OK);
    }
    /* the octal reading, concretely */
    plist_t p = NULL;
    plist_from_xml(docs[0], (uint32_t)strlen(docs[0]), &p);
    uint64_t v = 0;
    plist_get_uint_val(p, &v);
    assert_int_equal(v, 8);
    plist_free(p);
}

/* ---- entity expansion, depth, counts, hash flooding --------------------------------------- */

static void billion_laughs_is_refused(void **state)
{
    (void)state;
    buf b = {0};
    b_str(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE plist [\n <!ENTITY lol \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
        char prev[8] = "";
        if (i > 1)
            snprintf(prev, sizeof prev, "%d", i - 1);
        char line[256];
        snprintf(line, sizeof line, " <!ENTITY lol%d \"", i);
        b_str(&b, line);
        for (int k = 0; k < 10; k++) {
            snprintf(line, sizeof line, "&lol%s;", prev);
            b_str(&b, line);
        }
        b_str(&b, "\">\n");
    }
    b_str(&b, "]>\n" PL "<dict><key>k</key><string>&lol9;</string></dict>" PLE);
    sh_error err = {0};
    assert_int_equal(guard_bytes(b.p, b.len, NULL, &err), SH_E_PLIST_XML_DTD);
    assert_int_equal(err.offset, 38); /* the '[' */
    /* libplist skips the internal subset without expanding anything and then refuses the
     * undeclared entity: no expansion either way, but the guard refuses before libplist runs. */
    plist_t p = NULL;
    plist_from_xml((const char *)b.p, (uint32_t)b.len, &p);
    assert_null(p);
    b_free(&b);
}

static void xml_depth_limit(void **state)
{
    (void)state;
    for (unsigned depth = SH_MAX_PLIST_DEPTH - 1; depth <= SH_MAX_PLIST_DEPTH + 1; depth++) {
        buf b = {0};
        b_str(&b, PL);
        for (unsigned i = 0; i < depth; i++)
            b_str(&b, i % 2 ? "<dict><key>k</key>" : "<array>");
        b_str(&b, "<true/>");
        for (unsigned i = depth; i-- > 0;)
            b_str(&b, i % 2 ? "</dict>" : "</array>");
        b_str(&b, PLE);
        sh_plist_stats st;
        sh_error err = {0};
        sh_err r = guard_bytes(b.p, b.len, &st, &err);
        if (depth <= SH_MAX_PLIST_DEPTH) {
            assert_int_equal(r, SH_E_OK);
            assert_int_equal(st.max_depth, depth);
            sh_error e2 = {0};
            assert_int_equal(parse_type(b.p, b.len, &e2), PLIST_ARRAY);
        } else {
            assert_int_equal(r, SH_E_PLIST_TOO_DEEP);
        }
        b_free(&b);
    }
    /* a much deeper bomb stops at the limit without recursion */
    buf b = {0};
    b_str(&b, PL);
    for (unsigned i = 0; i < 100000; i++)
        b_str(&b, "<array>");
    sh_error err = {0};
    assert_int_equal(guard_bytes(b.p, b.len, NULL, &err), SH_E_PLIST_TOO_DEEP);
    assert_int_equal(err.offset, strlen(PL) + 7 * SH_MAX_PLIST_DEPTH);
    b_free(&b);
}

static void xml_node_limit(void **state)
{
    (void)state;
    for (int over = 0; over <= 1; over++) {
        buf b = {0};
        b_str(&b, PL "<array>");
        /* the array counts as one element */
        for (unsigned i = 0; i < SH_MAX_PLIST_NODES - 1 + (unsigned)over; i++)
            b_str(&b, "<true/>");
        b_str(&b, "</array>" PLE);
        sh_plist_stats st;
        sh_error err = {0};
        sh_err r = guard_bytes(b.p, b.len, &st, &err);
        assert_int_equal(r, over ? SH_E_PLIST_TOO_MANY_NODES : SH_E_OK);
        if (!over)
            assert_int_equal(st.nodes, SH_MAX_PLIST_NODES);
        b_free(&b);
    }
}

/* Keys built from "Ez" and "FY" blocks all have the same djb2 hash (33*'E'+'z' == 33*'F'+'Y'):
 * libplist's 4096-bucket table degenerates into one chain. */
static void hash_flooding_is_refused(void **state)
{
    (void)state;
    for (int colliding = 0; colliding <= 1; colliding++) {
        buf b = {0};
        b_str(&b, PL "<dict>");
        for (unsigned k = 0; k < (1u << 14); k++) {
            char key[64];
            if (colliding) {
                for (int i = 0; i < 14; i++)
                    memcpy(key + 2 * i, (k >> i) & 1 ? "FY" : "Ez", 2);
                key[28] = 0;
            } else {
                snprintf(key, sizeof key, "key-%05u-%016x", k, k * 2654435761u);
            }
            b_str(&b, "<key>");
            b_str(&b, key);
            b_str(&b, "</key><true/>");
        }
        b_str(&b, "</dict>" PLE);
        sh_plist_stats st;
        sh_error err = {0};
        sh_err r = guard_bytes(b.p, b.len, &st, &err);
        if (colliding) {
            assert_int_equal(r, SH_E_PLIST_HASH_FLOOD);
            assert_int_equal(err.offset, strlen(PL));
        } else {
            assert_int_equal(r, SH_E_OK);
            assert_true(st.key_work < SH_MAX_PLIST_KEY_WORK / 100);
        }
        b_free(&b);
    }
}

static void size_limit(void **state)
{
    (void)state;
    size_t n = SH_MAX_PLIST_SIZE + 1;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    sh_cursor c = sh_cursor_make(big, n);
    sh_error err = {0};
    assert_int_equal(sh_plist_guard(&c, NULL, NULL, &err), SH_E_PLIST_TOO_LARGE);
    assert_int_equal(err.value, n);
    memcpy(big, "bplist00", 8);
    assert_int_equal(sh_plist_guard(&c, NULL, NULL, &err), SH_E_PLIST_TOO_LARGE);
    free(big);
}

/* ---- binary plists ------------------------------------------------------------------------ */

typedef struct bpb {
    buf data; /* header + objects */
    uint64_t offsets[512];
    unsigned n;
} bpb;

static void bp_init(bpb *b)
{
    memset(b, 0, sizeof *b);
    b_str(&b->data, "bplist00");
}

static unsigned bp_add(bpb *b, const void *obj, size_t n)
{
    assert_true(b->n < 512);
    b->offsets[b->n] = b->data.len;
    b_put(&b->data, obj, n);
    return b->n++;
}

typedef struct trailer {
    uint8_t offset_size, ref_size;
    uint64_t num_objects, root, table_off; /* 0: computed */
    bool set_num, set_table;
} trailer;

/* Writes the offset table and trailer after the objects. */
static void bp_finish(bpb *b, trailer t, buf *out)
{
    if (!t.offset_size)
        t.offset_size = 2;
    if (!t.ref_size)
        t.ref_size = 1;
    buf o = {0};
    b_put(&o, b->data.p, b->data.len);
    uint64_t table = o.len;
    for (unsigned i = 0; i < b->n; i++)
        b_be(&o, b->offsets[i], t.offset_size);
    for (int i = 0; i < 6; i++)
        b_u8(&o, 0);
    b_u8(&o, t.offset_size);
    b_u8(&o, t.ref_size);
    b_be(&o, t.set_num ? t.num_objects : b->n, 8);
    b_be(&o, t.root, 8);
    b_be(&o, t.set_table ? t.table_off : table, 8);
    *out = o;
}

static sh_err bp_guard(bpb *b, trailer t, sh_error *err, buf *keep)
{
    buf o;
    bp_finish(b, t, &o);
    sh_err r = guard_bytes(o.p, o.len, NULL, err);
    if (keep)
        *keep = o;
    else
        b_free(&o);
    return r;
}

static void bplist_valid(void **state)
{
    (void)state;
    bpb b;
    bp_init(&b);
    /* 0: dict {a: 1, b: [true, "x", "é" (UTF-16)]} */
    bp_add(&b, "\xD2\x01\x02\x03\x04", 5);
    bp_add(&b, "\x51" "a", 2);              /* 1 */
    bp_add(&b, "\x51" "b", 2);              /* 2 */
    bp_add(&b, "\x10\x01", 2);              /* 3: 1 */
    bp_add(&b, "\xA3\x05\x06\x07", 4);      /* 4: array */
    bp_add(&b, "\x09", 1);                  /* 5: true */
    bp_add(&b, "\x51x", 2);                 /* 6 */
    bp_add(&b, "\x61\x00\xE9", 3);          /* 7: UTF-16 "é" */
    buf o;
    bp_finish(&b, (trailer){0}, &o);
    sh_plist_stats st;
    sh_error err = {0};
    assert_int_equal(guard_bytes(o.p, o.len, &st, &err), SH_E_OK);
    assert_int_equal(st.format, SH_PLIST_FORMAT_BINARY);
    assert_int_equal(st.nodes, 8);
    assert_int_equal(st.max_depth, 2);
    assert_int_equal(st.dict_keys, 2);
    assert_int_equal(parse_type(o.p, o.len, &err), PLIST_DICT);
    b_free(&o);
    b_free(&b.data);
}

static void bplist_hostile(void **state)
{
    (void)state;
    sh_error err = {0};
    bpb b;
    buf o;

    /* header: version 01, too short */
    bp_init(&b);
    bp_add(&b, "\x09", 1);
    bp_finish(&b, (trailer){0}, &o);
    memcpy(o.p + 6, "01", 2);
    assert_int_equal(guard_bytes(o.p, o.len, NULL, &err), SH_E_PLIST_BPLIST_HEADER);
    assert_int_equal(guard_bytes("bplist00\x09", 9, NULL, &err), SH_E_PLIST_BPLIST_HEADER);
    b_free(&o);

    /* trailer: offset size 3, reference size 0, top object past the count, huge count */
    assert_int_equal(bp_guard(&b, (trailer){.offset_size = 3}, &err, NULL),
                     SH_E_PLIST_BPLIST_TRAILER);
    assert_int_equal(err.value, 3);
    assert_int_equal(bp_guard(&b, (trailer){.ref_size = 16}, &err, NULL),
                     SH_E_PLIST_BPLIST_TRAILER);
    assert_int_equal(bp_guard(&b, (trailer){.root = 1}, &err, NULL), SH_E_PLIST_BPLIST_TRAILER);
    assert_int_equal(bp_guard(&b, (trailer){.set_num = true, .num_objects = (uint64_t)1 << 40},
                              &err, NULL),
                     SH_E_PLIST_BPLIST_OBJECT_COUNT);
    assert_int_equal(err.value, (uint64_t)1 << 40);
    assert_int_equal(bp_guard(&b, (trailer){.set_num = true, .num_objects = 0}, &err, NULL),
                     SH_E_PLIST_BPLIST_OBJECT_COUNT);
    /* offset table out of range: past the trailer, into the header, wrapping around */
    assert_int_equal(bp_guard(&b, (trailer){.set_table = true, .table_off = 1000}, &err, NULL),
                     SH_E_PLIST_BPLIST_TRAILER);
    assert_int_equal(bp_guard(&b, (trailer){.set_table = true, .table_off = 4}, &err, NULL),
                     SH_E_PLIST_BPLIST_TRAILER);
    assert_int_equal(
        bp_guard(&b, (trailer){.set_table = true, .table_off = UINT64_MAX - 1}, &err, NULL),
        SH_E_PLIST_BPLIST_TRAILER);
    /* more objects than a 1-byte reference can name */
    {
        bpb m;
        bp_init(&m);
        for (int i = 0; i < 257; i++)
            bp_add(&m, "\x09", 1);
        assert_int_equal(bp_guard(&m, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_TRAILER);
        assert_int_equal(bp_guard(&m, (trailer){.ref_size = 2}, &err, NULL), SH_E_OK);
        b_free(&m.data);
    }
    b_free(&b.data);

    /* offsets: into the header, at the offset table */
    bp_init(&b);
    bp_add(&b, "\x09", 1);
    bp_finish(&b, (trailer){0}, &o);
    o.p[o.len - 32 - 1] = 3; /* offset 3: inside "bplist00" */
    assert_int_equal(guard_bytes(o.p, o.len, NULL, &err), SH_E_PLIST_BPLIST_OFFSET);
    assert_int_equal(err.value, 3);
    assert_int_equal(err.offset, o.len - 32 - 2);
    o.p[o.len - 32 - 1] = 9; /* offset 9 = the table itself */
    assert_int_equal(guard_bytes(o.p, o.len, NULL, &err), SH_E_PLIST_BPLIST_OFFSET);
    b_free(&o);
    b_free(&b.data);

    /* objects: null, fill, set, bad int size, size field not an int, string into the table,
     * ASCII with NUL / high byte, unpaired surrogates, UID of 3 bytes */
    static const struct {
        const char *obj;
        size_t n;
    } bad_objs[] = {
        {"\x00", 1},         {"\x0F", 1},          {"\xC1\x00", 2},     {"\x15", 1},
        {"\x5F\x20\x01", 3}, {"\x5F\x14\x00", 3},  {"\x55" "ab", 3},    {"\x53" "a\x00" "b", 4},
        {"\x51\x80", 2},     {"\x61\xD8\x00", 3},  {"\x61\xDC\x00", 3}, {"\x82\x00\x00\x01", 4},
        {"\x32\x00\x00\x00\x00", 5}, {"\x70", 1},
    };
    for (size_t i = 0; i < sizeof bad_objs / sizeof bad_objs[0]; i++) {
        bp_init(&b);
        bp_add(&b, bad_objs[i].obj, bad_objs[i].n);
        sh_err r = bp_guard(&b, (trailer){0}, &err, NULL);
        if (r != SH_E_PLIST_BPLIST_OBJECT)
            fail_msg("object %zu: %s", i, sh_err_name(r));
        b_free(&b.data);
    }

    /* dict key not a string; reference past the count; duplicate keys (ASCII vs UTF-16) */
    bp_init(&b);
    bp_add(&b, "\xD1\x01\x02", 3);
    bp_add(&b, "\x10\x01", 2);
    bp_add(&b, "\x09", 1);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_OBJECT);
    b_free(&b.data);
    bp_init(&b);
    bp_add(&b, "\xA1\x07", 2);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_REF);
    assert_int_equal(err.value, 7);
    assert_int_equal(err.offset, 9);
    b_free(&b.data);
    bp_init(&b);
    bp_add(&b, "\xD2\x01\x02\x03\x03", 5);
    bp_add(&b, "\x52" "ab", 3);
    bp_add(&b, "\x62\x00\x61\x00\x62", 5);
    bp_add(&b, "\x09", 1);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_DUPLICATE_KEY);
    assert_int_equal(err.offset, 16);
    b_free(&b.data);
    bp_init(&b); /* the same key object twice */
    bp_add(&b, "\xD2\x01\x01\x02\x02", 5);
    bp_add(&b, "\x51" "a", 2);
    bp_add(&b, "\x09", 1);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_DUPLICATE_KEY);
    b_free(&b.data);
}

static void bplist_cycles_and_bombs(void **state)
{
    (void)state;
    sh_error err = {0};
    bpb b;
    /* an array holding itself */
    bp_init(&b);
    bp_add(&b, "\xA1\x00", 2);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_CYCLE);
    assert_int_equal(err.offset, 9);
    b_free(&b.data);
    /* a -> dict -> a, through a dict value */
    bp_init(&b);
    bp_add(&b, "\xA1\x01", 2);
    bp_add(&b, "\xD1\x02\x00", 3);
    bp_add(&b, "\x51k", 2);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_CYCLE);
    b_free(&b.data);
    /* libplist on its own also detects this one; the guard refuses before it recurses */

    /* DAG bomb: 40 arrays, each referencing the next one twice: 2^40 nodes for libplist */
    bp_init(&b);
    for (unsigned i = 0; i < 40; i++) {
        uint8_t obj[3] = {0xA2, (uint8_t)(i + 1), (uint8_t)(i + 1)};
        bp_add(&b, obj, 3);
    }
    bp_add(&b, "\x09", 1);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_TOO_MANY_NODES);
    b_free(&b.data);

    /* expansion bomb: a 1 KiB string referenced 100000 times (100 MiB once copied) */
    bp_init(&b);
    {
        buf arr = {0};
        b_u8(&arr, 0xAF);
        b_u8(&arr, 0x12);
        b_be(&arr, 100000, 4);
        for (int i = 0; i < 100000; i++)
            b_u8(&arr, 1);
        bp_add(&b, arr.p, arr.len);
        b_free(&arr);
        buf s = {0};
        b_u8(&s, 0x5F);
        b_u8(&s, 0x11);
        b_be(&s, 1024, 2);
        for (int i = 0; i < 1024; i++)
            b_u8(&s, 'x');
        bp_add(&b, s.p, s.len);
        b_free(&s);
    }
    assert_int_equal(bp_guard(&b, (trailer){.offset_size = 4}, &err, NULL),
                     SH_E_PLIST_BPLIST_EXPANSION);
    b_free(&b.data);

    /* depth: a chain of nested arrays */
    for (unsigned depth = SH_MAX_PLIST_DEPTH; depth <= SH_MAX_PLIST_DEPTH + 1; depth++) {
        bp_init(&b);
        for (unsigned i = 0; i < depth; i++) {
            uint8_t obj[2] = {0xA1, (uint8_t)(i + 1)};
            bp_add(&b, obj, 2);
        }
        bp_add(&b, "\x08", 1);
        sh_err r = bp_guard(&b, (trailer){0}, &err, NULL);
        assert_int_equal(r, depth <= SH_MAX_PLIST_DEPTH ? SH_E_OK : SH_E_PLIST_TOO_DEEP);
        b_free(&b.data);
    }

    /* huge declared array count: refused before anything is allocated for it */
    bp_init(&b);
    bp_add(&b, "\xAF\x13\x00\x00\x00\x00\x7F\xFF\xFF\xFF", 10);
    assert_int_equal(bp_guard(&b, (trailer){0}, &err, NULL), SH_E_PLIST_BPLIST_OBJECT);
    b_free(&b.data);
}

/* ---- real files ---------------------------------------------------------------------------- */

static buf load_sample(const char *sub, const char *name)
{
    char path[2048];
    if (!sample_path(sub, name, path, sizeof path))
        fail_msg("set SH_SHARED_DIR or SH_SOURCE_DIR");
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    buf b = {0};
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        b_put(&b, tmp, n);
    fclose(f);
    return b;
}

static void real_plists(void **state)
{
    (void)state;
    static const struct {
        const char *sub, *name;
        sh_plist_format format;
        int type;
    } files[] = {
        {"macho", "sparkle_DevSignedApp_Info.plist", SH_PLIST_FORMAT_XML, PLIST_DICT},
        {"macho", "sparkle_DevSignedApp_CodeResources", SH_PLIST_FORMAT_XML, PLIST_DICT},
        {"detached", "sparkle_CodeSignedBothNew_Info.plist", SH_PLIST_FORMAT_XML, PLIST_DICT},
        {"detached", "sparkle_CodeSignedBothNew_CodeResources", SH_PLIST_FORMAT_XML, PLIST_DICT},
        {"profiles", "appinfo_bplist_NOT_CMS.mobileprovision", SH_PLIST_FORMAT_BINARY,
         PLIST_DICT},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        buf b = load_sample(files[i].sub, files[i].name);
        sh_plist_stats st;
        sh_error err = {0};
        sh_err r = guard_bytes(b.p, b.len, &st, &err);
        if (r)
            fail_msg("%s: %s at 0x%llx (%s)", files[i].name, sh_err_name(r),
                     (unsigned long long)err.offset, err.where);
        assert_int_equal(st.format, files[i].format);
        assert_true(st.nodes > 3);
        assert_int_equal(parse_type(b.p, b.len, &err), files[i].type);
        /* every proper prefix is refused (and never crashes libplist: it never sees them) */
        for (size_t n = 0; n < b.len; n += 1 + n / 64) {
            sh_err rp = guard_bytes(b.p, n, NULL, &err);
            assert_int_not_equal(rp, SH_E_OK);
        }
        b_free(&b);
    }
}

/* ---- allocation failures ------------------------------------------------------------------ */

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    buf docs[2];
    docs[0] = load_sample("macho", "sparkle_DevSignedApp_CodeResources");
    docs[1] = load_sample("profiles", "appinfo_bplist_NOT_CMS.mobileprovision");
    for (int d = 0; d < 2; d++) {
        for (long k = 0;; k++) {
            failing_alloc fl;
            sh_allocator a = failing_alloc_start(&fl, k);
            sh_cursor c = sh_cursor_make(docs[d].p, docs[d].len);
            sh_error err = {0};
            sh_err r = sh_plist_guard(&c, &a, NULL, &err);
            assert_int_equal(fl.live, 0);
            if (r == SH_E_OK)
                break;
            assert_int_equal(r, SH_E_NO_MEMORY);
        }
        b_free(&docs[d]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_accepts_apple_plists),
        cmocka_unit_test(xml_hostile_table),
        cmocka_unit_test(libplist_differentials_are_refused),
        cmocka_unit_test(billion_laughs_is_refused),
        cmocka_unit_test(xml_depth_limit),
        cmocka_unit_test(xml_node_limit),
        cmocka_unit_test(hash_flooding_is_refused),
        cmocka_unit_test(size_limit),
        cmocka_unit_test(bplist_valid),
        cmocka_unit_test(bplist_hostile),
        cmocka_unit_test(bplist_cycles_and_bombs),
        cmocka_unit_test(real_plists),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
