/* Entitlements: DER decoder (both forms), encoder, XML blob, comparison, real signed binaries and
 * hostile inputs.  Every input is copied into an exactly sized heap buffer so ASan sees any
 * over-read. */
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

#include "entitlements.h"
#include "macho.h"
#include "signature.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static uint8_t *exact(const void *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    if (n)
        memcpy(b, p, n);
    return b;
}

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void b_put(buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
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

static void b_u8(buf *b, uint8_t v) { b_put(b, &v, 1); }

/* tag + minimal DER length + content */
static void b_tlv(buf *b, uint8_t tag, const void *content, size_t n)
{
    b_u8(b, tag);
    if (n < 0x80) {
        b_u8(b, (uint8_t)n);
    } else {
        uint8_t tmp[8];
        int k = 0;
        for (size_t v = n; v; v >>= 8)
            tmp[k++] = (uint8_t)v;
        b_u8(b, (uint8_t)(0x80 | k));
        while (k-- > 0)
            b_u8(b, tmp[k]);
    }
    b_put(b, content, n);
}

static void b_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* An entry SEQUENCE { UTF8String key, value(raw TLV) }. */
static void b_entry(buf *b, const char *key, const void *value, size_t vn)
{
    buf e = {0};
    b_tlv(&e, 0x0C, key, strlen(key));
    b_put(&e, value, vn);
    b_tlv(b, 0x30, e.p, e.len);
    b_free(&e);
}

/* 70 { 02 01 01, B0 { entries } } around raw entry bytes. */
static void b_current(buf *out, const void *entries, size_t n)
{
    buf in = {0};
    b_put(&in, "\x02\x01\x01", 3);
    b_tlv(&in, 0xB0, entries, n);
    b_tlv(out, 0x70, in.p, in.len);
    b_free(&in);
}

/* Parses DER bytes from an exactly sized copy; returns the error code. */
static sh_err der(const void *p, size_t n, sh_entitlements *e, sh_ent_path *path, sh_error *err)
{
    uint8_t *copy = exact(p, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_err r = sh_entitlements_parse_der(&c, NULL, e, path, err);
    if (r == SH_E_OK) {
        /* the tree must not point into the input */
        memset(copy, 0xAA, n);
    }
    free(copy);
    return r;
}

static sh_err der_fail(const void *p, size_t n, sh_error *err, sh_ent_path *path)
{
    sh_entitlements e;
    sh_err r = der(p, n, &e, path, err);
    if (r == SH_E_OK)
        sh_entitlements_free(&e);
    return r;
}

#define EXPECT_DER(bytes, code, off)                                                              \
    do {                                                                                          \
        sh_error err_ = {0};                                                                      \
        sh_err r_ = der_fail(bytes, sizeof(bytes) - 1, &err_, NULL);                              \
        if (r_ != (code))                                                                         \
            fail_msg("%s:%d: got %s, expected %s", __FILE__, __LINE__, sh_err_name(r_),          \
                     sh_err_name(code));                                                          \
        assert_int_equal(err_.offset, (off));                                                     \
    } while (0)

static sh_err xml(const char *text, sh_entitlements *e, sh_ent_path *path, sh_error *err)
{
    size_t n = strlen(text);
    uint8_t *copy = exact(text, n);
    sh_cursor c = sh_cursor_make(copy, n);
    sh_err r = sh_entitlements_parse_xml(&c, NULL, e, path, err);
    free(copy);
    return r;
}

static void encode_ok(const sh_ent_node *root, uint8_t **out, size_t *len)
{
    sh_error err = {0};
    sh_ent_path path;
    sh_err r = sh_entitlements_encode_der(root, NULL, out, len, &path, &err);
    if (r)
        fail_msg("encode: %s at %s", sh_err_name(r), path.text);
}

/* ---- reading the external samples ---------------------------------------------------------- */

typedef struct file_bytes {
    uint8_t *data;
    size_t len;
} file_bytes;

static file_bytes load_sample(const char *sub, const char *name)
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
    file_bytes out = {exact(b.p, b.len), b.len};
    b_free(&b);
    return out;
}

/* The entitlement blobs of one slice, found through the Mach-O and signature parsers. */
typedef struct slice_ents {
    bool has_xml, has_der;
    sh_cursor xml, der;
} slice_ents;

static uint32_t sample_entitlements(const file_bytes *f, slice_ents *out, uint32_t max)
{
    sh_macho_file mf;
    sh_error err = {0};
    if (sh_macho_parse(f->data, f->len, NULL, &mf, &err) != SH_E_OK)
        fail_msg("macho: %s", sh_err_name(err.code));
    uint32_t n = 0;
    sh_signature *sig = calloc(1, sizeof *sig);
    assert_non_null(sig);
    for (uint32_t i = 0; i < mf.nslices && n < max; i++) {
        sh_cursor sv;
        if (sh_macho_signature(&mf.slices[i], &sv, &err) != SH_E_OK)
            continue;
        if (sh_signature_parse(&sv, sig, &err) != SH_E_OK)
            fail_msg("signature: %s", sh_err_name(err.code));
        slice_ents *s = &out[n++];
        memset(s, 0, sizeof *s);
        const sh_blob_entry *x = sh_superblob_find(&sig->superblob, SH_SLOT_ENTITLEMENTS);
        const sh_blob_entry *d = sh_superblob_find(&sig->superblob, SH_SLOT_DER_ENTITLEMENTS);
        if (x) {
            s->has_xml = true;
            s->xml = x->blob;
        }
        if (d) {
            s->has_der = true;
            s->der = d->blob;
        }
    }
    free(sig);
    sh_macho_free(&mf);
    return n;
}

/* ---- test vectors ---------------------------------------------------------------------------- */

static const uint8_t EMPTY_DICT[] = {0x70, 0x05, 0x02, 0x01, 0x01, 0xB0, 0x00};
static const uint8_t KEY_TRUE[] = {0x70, 0x0F, 0x02, 0x01, 0x01, 0xB0, 0x0A, 0x30, 0x08, 0x0C,
                                   0x03, 0x6B, 0x65, 0x79, 0x01, 0x01, 0xFF};

static void vectors_decode_and_encode_byte_exact(void **state)
{
    (void)state;
    sh_entitlements e;
    sh_error err = {0};
    assert_int_equal(der(EMPTY_DICT, sizeof EMPTY_DICT, &e, NULL, &err), SH_E_OK);
    assert_int_equal(e.form, SH_ENT_FORM_DER);
    assert_int_equal(e.root.type, SH_ENT_DICT);
    assert_int_equal(e.root.count, 0);
    uint8_t *out;
    size_t len;
    encode_ok(&e.root, &out, &len);
    assert_int_equal(len, sizeof EMPTY_DICT);
    assert_memory_equal(out, EMPTY_DICT, len);
    free(out);
    sh_entitlements_free(&e);

    assert_int_equal(der(KEY_TRUE, sizeof KEY_TRUE, &e, NULL, &err), SH_E_OK);
    assert_int_equal(e.root.count, 1);
    assert_string_equal(e.root.keys[0].str, "key");
    assert_int_equal(e.root.keys[0].offset, 9);
    assert_int_equal(e.root.items[0].offset, 14);
    assert_true(sh_ent_get_bool(&e.root, "key"));
    assert_false(sh_ent_get_bool(&e.root, "nope"));
    encode_ok(&e.root, &out, &len);
    assert_int_equal(len, sizeof KEY_TRUE);
    assert_memory_equal(out, KEY_TRUE, len);
    free(out);

    /* blob form */
    sh_ent_path path;
    assert_int_equal(sh_entitlements_encode_der_blob(&e.root, NULL, &out, &len, &path, &err),
                     SH_E_OK);
    assert_int_equal(len, 8 + sizeof KEY_TRUE);
    static const uint8_t hdr[] = {0xfa, 0xde, 0x71, 0x72, 0, 0, 0, 8 + sizeof KEY_TRUE};
    assert_memory_equal(out, hdr, 8);
    sh_entitlements e2;
    sh_cursor c = sh_cursor_make(out, len);
    assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e2, &path, &err), SH_E_OK);
    assert_int_equal(sh_entitlements_compare(&e.root, &e2.root, NULL, &err), SH_E_OK);
    sh_entitlements_free(&e2);
    free(out);
    sh_entitlements_free(&e);
}

static void integers_encode_minimally(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        const char *enc;
        size_t n;
    } cases[] = {
        {0, "\x02\x01\x00", 3},
        {-1, "\x02\x01\xFF", 3},
        {42, "\x02\x01\x2A", 3},
        {127, "\x02\x01\x7F", 3},
        {128, "\x02\x02\x00\x80", 4},
        {-128, "\x02\x01\x80", 3},
        {-129, "\x02\x02\xFF\x7F", 4},
        {INT64_MAX, "\x02\x08\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10},
        {INT64_MIN, "\x02\x08\x80\x00\x00\x00\x00\x00\x00\x00", 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf ent = {0}, doc = {0};
        b_entry(&ent, "n", cases[i].enc, cases[i].n);
        b_current(&doc, ent.p, ent.len);
        sh_entitlements e;
        sh_error err = {0};
        assert_int_equal(der(doc.p, doc.len, &e, NULL, &err), SH_E_OK);
        const sh_ent_node *n = sh_ent_dict_get(&e.root, "n");
        assert_non_null(n);
        assert_int_equal(n->type, SH_ENT_INT);
        assert_true(n->integer == cases[i].v);
        uint8_t *out;
        size_t len;
        encode_ok(&e.root, &out, &len);
        assert_int_equal(len, doc.len);
        assert_memory_equal(out, doc.p, len);
        free(out);
        sh_entitlements_free(&e);
        b_free(&ent);
        b_free(&doc);
    }
}

static void long_lengths_round_trip(void **state)
{
    (void)state;
    /* strings of 127, 128, 200, 300 and 70000 bytes: short form, 81, 81, 82, 83 lengths */
    static const size_t sizes[] = {0, 127, 128, 200, 300, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *s = malloc(sizes[i] + 1);
        memset(s, 'x', sizes[i]);
        buf str = {0}, ent = {0}, doc = {0};
        b_tlv(&str, 0x0C, s, sizes[i]);
        b_entry(&ent, "s", str.p, str.len);
        b_current(&doc, ent.p, ent.len);
        sh_entitlements e;
        sh_error err = {0};
        assert_int_equal(der(doc.p, doc.len, &e, NULL, &err), SH_E_OK);
        const sh_ent_node *n = sh_ent_dict_get(&e.root, "s");
        assert_non_null(n);
        assert_int_equal(n->len, sizes[i]);
        uint8_t *out;
        size_t len;
        encode_ok(&e.root, &out, &len);
        assert_int_equal(len, doc.len);
        assert_memory_equal(out, doc.p, len);
        free(out);
        sh_entitlements_free(&e);
        b_free(&str);
        b_free(&ent);
        b_free(&doc);
        free(s);
    }
}

static void nested_values_and_lookup(void **state)
{
    (void)state;
    /* {"a": [1, "x", false], "b": {"c": true}} */
    buf arr = {0}, arrtlv = {0}, inner = {0}, innertlv = {0}, ents = {0}, doc = {0};
    b_put(&arr, "\x02\x01\x01\x0C\x01x\x01\x01\x00", 9);
    b_tlv(&arrtlv, 0x30, arr.p, arr.len);
    b_entry(&inner, "c", "\x01\x01\xFF", 3);
    b_tlv(&innertlv, 0xB0, inner.p, inner.len);
    b_entry(&ents, "a", arrtlv.p, arrtlv.len);
    b_entry(&ents, "b", innertlv.p, innertlv.len);
    b_current(&doc, ents.p, ents.len);
    sh_entitlements e;
    sh_error err = {0};
    assert_int_equal(der(doc.p, doc.len, &e, NULL, &err), SH_E_OK);
    assert_int_equal(e.nodes, 7);
    const sh_ent_node *a = sh_ent_dict_get(&e.root, "a");
    assert_non_null(a);
    assert_int_equal(a->type, SH_ENT_ARRAY);
    assert_int_equal(a->count, 3);
    assert_string_equal((const char *)a->items[1].bytes, "x");
    assert_false(a->items[2].boolean);
    const sh_ent_node *b = sh_ent_dict_get(&e.root, "b");
    assert_true(sh_ent_get_bool(b, "c"));
    assert_null(sh_ent_get_string(b, "c"));
    assert_string_equal(sh_ent_get_string(&(sh_ent_node){0}, "x") ? "?" : "null", "null");
    uint8_t *out;
    size_t len;
    encode_ok(&e.root, &out, &len);
    assert_int_equal(len, doc.len);
    assert_memory_equal(out, doc.p, len);
    free(out);

    /* same content from XML */
    sh_entitlements x;
    assert_int_equal(xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">"
                         "<dict><key>b</key><dict><key>c</key><true/></dict>"
                         "<key>a</key><array><integer>1</integer><string>x</string><false/>"
                         "</array></dict></plist>\n",
                         &x, NULL, &err),
                     SH_E_OK);
    assert_int_equal(x.form, SH_ENT_FORM_XML);
    assert_int_equal(sh_entitlements_compare(&x.root, &e.root, NULL, &err), SH_E_OK);
    encode_ok(&x.root, &out, &len);
    assert_int_equal(len, doc.len);
    assert_memory_equal(out, doc.p, len);
    free(out);
    sh_entitlements_free(&x);
    sh_entitlements_free(&e);
    b_free(&arr);
    b_free(&arrtlv);
    b_free(&inner);
    b_free(&innertlv);
    b_free(&ents);
    b_free(&doc);
}

/* ---- real signed binaries ---------------------------------------------------------------- */

static void sparkle_xml_and_der_agree_and_reencode(void **state)
{
    (void)state;
    file_bytes f = load_sample("macho", "sparkle_DevSignedApp_SignedApp");
    slice_ents s[4];
    assert_int_equal(sample_entitlements(&f, s, 4), 1);
    assert_true(s[0].has_xml && s[0].has_der);
    assert_int_equal(sh_cursor_len(&s[0].der), 107);

    sh_entitlements x, d;
    sh_error err = {0};
    sh_ent_path path;
    assert_int_equal(sh_entitlements_parse_xml_blob(&s[0].xml, NULL, &x, &path, &err), SH_E_OK);
    assert_int_equal(sh_entitlements_parse_der_blob(&s[0].der, NULL, &d, &path, &err), SH_E_OK);
    assert_int_equal(d.form, SH_ENT_FORM_DER);
    assert_int_equal(x.root.count, 2);
    assert_true(sh_ent_get_bool(&x.root, "com.apple.security.app-sandbox"));
    assert_true(sh_ent_get_bool(&d.root, "com.apple.security.app-sandbox"));
    assert_true(sh_ent_get_bool(&d.root, "com.apple.security.files.user-selected.read-only"));
    /* DER offsets are absolute file offsets: the blob sits at 0xc89b */
    assert_int_equal(sh_cursor_pos(&s[0].der), 0xc89b);
    assert_int_equal(d.root.offset, 0xc89b + 8 + 5);
    sh_ent_diff diff;
    assert_int_equal(sh_entitlements_compare(&x.root, &d.root, &diff, &err), SH_E_OK);

    /* re-encoding gives the signed bytes exactly, with and without the blob header */
    uint8_t *out, raw[107];
    size_t len;
    sh_cursor dc = s[0].der;
    assert_true(sh_cursor_copy(&dc, raw, sizeof raw));
    encode_ok(&d.root, &out, &len);
    assert_int_equal(len, 99);
    assert_memory_equal(out, raw + 8, 99);
    free(out);
    encode_ok(&x.root, &out, &len);
    assert_memory_equal(out, raw + 8, 99);
    free(out);
    assert_int_equal(sh_entitlements_encode_der_blob(&x.root, NULL, &out, &len, &path, &err),
                     SH_E_OK);
    assert_int_equal(len, 107);
    assert_memory_equal(out, raw, 107);
    free(out);
    sh_entitlements_free(&x);
    sh_entitlements_free(&d);
    free(f.data);
}

static void guiapp_legacy_set_agrees_with_xml(void **state)
{
    (void)state;
    file_bytes f = load_sample("macho", "appinfo_GuiApp_universal");
    slice_ents s[4];
    assert_int_equal(sample_entitlements(&f, s, 4), 2);
    static const char *const keys[] = {
        "com.apple.security.app-sandbox",
        "com.apple.security.device.bluetooth",
        "com.apple.security.device.camera",
        "com.apple.security.device.usb",
        "com.apple.security.files.user-selected.read-only",
        "com.apple.security.network.server",
        "com.apple.security.personal-information.addressbook",
        "com.apple.security.personal-information.calendars",
        "com.apple.security.personal-information.location",
    };
    for (int i = 0; i < 2; i++) {
        assert_true(s[i].has_xml && s[i].has_der);
        assert_int_equal(sh_cursor_len(&s[i].der), 430);
        sh_entitlements x, d;
        sh_error err = {0};
        assert_int_equal(sh_entitlements_parse_xml_blob(&s[i].xml, NULL, &x, NULL, &err), SH_E_OK);
        assert_int_equal(sh_entitlements_parse_der_blob(&s[i].der, NULL, &d, NULL, &err), SH_E_OK);
        assert_int_equal(d.form, SH_ENT_FORM_DER_LEGACY);
        assert_int_equal(d.root.count, 9);
        for (size_t k = 0; k < 9; k++) {
            assert_string_equal(d.root.keys[k].str, keys[k]); /* tree is in key order */
            assert_true(sh_ent_get_bool(&x.root, keys[k]));
            assert_true(sh_ent_get_bool(&d.root, keys[k]));
        }
        assert_int_equal(sh_entitlements_compare(&x.root, &d.root, NULL, &err), SH_E_OK);
        /* the current form of the same tree decodes to the same tree */
        uint8_t *out;
        size_t len;
        encode_ok(&d.root, &out, &len);
        assert_int_equal(out[0], 0x70);
        sh_entitlements r;
        assert_int_equal(der(out, len, &r, NULL, &err), SH_E_OK);
        assert_int_equal(sh_entitlements_compare(&r.root, &x.root, NULL, &err), SH_E_OK);
        free(out);
        sh_entitlements_free(&r);
        sh_entitlements_free(&x);
        sh_entitlements_free(&d);
    }
    free(f.data);
}

static void xml_only_samples_parse_and_encode(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t keys;
        const char *bool_key;
    } samples[] = {
        {"fastlane_very_capable_app_selfsigned", 24, "get-task-allow"},
        {"isign_isignTestApp_armv7_arm64", 4, "get-task-allow"},
        {"runloop_CalSmoke-cal_armv7_arm64_sha1cms", 4, "get-task-allow"},
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        file_bytes f = load_sample("macho", samples[i].name);
        slice_ents s[4];
        uint32_t n = sample_entitlements(&f, s, 4);
        assert_true(n >= 1);
        for (uint32_t k = 0; k < n; k++) {
            assert_true(s[k].has_xml);
            assert_false(s[k].has_der);
            sh_entitlements x, r;
            sh_error err = {0};
            assert_int_equal(sh_entitlements_parse_xml_blob(&s[k].xml, NULL, &x, NULL, &err),
                             SH_E_OK);
            assert_int_equal(x.root.count, samples[i].keys);
            assert_true(sh_ent_get_bool(&x.root, samples[i].bool_key));
            uint8_t *out;
            size_t len;
            encode_ok(&x.root, &out, &len);
            assert_int_equal(der(out, len, &r, NULL, &err), SH_E_OK);
            assert_int_equal(sh_entitlements_compare(&x.root, &r.root, NULL, &err), SH_E_OK);
            free(out);
            sh_entitlements_free(&r);
            sh_entitlements_free(&x);
        }
        free(f.data);
    }
}

static void sparkle_der_truncated_everywhere(void **state)
{
    (void)state;
    file_bytes f = load_sample("macho", "sparkle_DevSignedApp_SignedApp");
    slice_ents s[1];
    assert_int_equal(sample_entitlements(&f, s, 1), 1);
    uint8_t raw[107];
    sh_cursor dc = s[0].der;
    assert_true(sh_cursor_copy(&dc, raw, sizeof raw));
    for (size_t n = 0; n < 99; n++) {
        sh_error err = {0};
        assert_int_equal(der_fail(raw + 8, n, &err, NULL), SH_E_ENT_DER_TRUNCATED);
        assert_int_equal(err.offset, n == 1 ? 1 : 0);
    }
    /* the blob: every shorter length is a length mismatch */
    for (size_t n = 0; n < 107; n++) {
        uint8_t *copy = exact(raw, n);
        sh_cursor c = sh_cursor_make(copy, n);
        sh_entitlements e;
        sh_error err = {0};
        assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e, NULL, &err),
                         SH_E_ENT_BLOB_BAD_LENGTH);
        free(copy);
    }
    /* every single-byte change is refused or decodes to something that re-encodes (no crash) */
    for (size_t i = 8; i < 107; i++)
        for (int bit = 0; bit < 8; bit++) {
            uint8_t m[99];
            memcpy(m, raw + 8, 99);
            m[i - 8] ^= (uint8_t)(1u << bit);
            sh_entitlements e;
            sh_error err = {0};
            if (der(m, 99, &e, NULL, &err) == SH_E_OK) {
                uint8_t *out;
                size_t len;
                encode_ok(&e.root, &out, &len);
                assert_int_equal(len, 99);
                assert_memory_equal(out, m, 99);
                free(out);
                sh_entitlements_free(&e);
            }
        }
    free(f.data);
}

/* ---- hostile DER --------------------------------------------------------------------------- */

static void hostile_der_lengths_and_tags(void **state)
{
    (void)state;
    EXPECT_DER("", SH_E_ENT_DER_TRUNCATED, 0);
    EXPECT_DER("\x70", SH_E_ENT_DER_TRUNCATED, 1);
    /* nine length octets */
    EXPECT_DER("\x70\x89\x01\x02\x03\x04\x05\x06\x07\x08\x09", SH_E_ENT_DER_LENGTH_OVERFLOW, 1);
    /* reserved 0xFF */
    EXPECT_DER("\x70\xFF\x00", SH_E_ENT_DER_LENGTH_OVERFLOW, 1);
    /* eight octets, enormous: truncated, never an allocation */
    EXPECT_DER("\x70\x88\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x02\x01\x01\xB0\x00",
               SH_E_ENT_DER_TRUNCATED, 0);
    /* long-form length octets missing */
    EXPECT_DER("\x70\x84\x01\x00", SH_E_ENT_DER_TRUNCATED, 1);
    /* non-minimal: long form for 5, and a leading zero octet */
    EXPECT_DER("\x70\x81\x05\x02\x01\x01\xB0\x00", SH_E_ENT_DER_LENGTH_NOT_MINIMAL, 1);
    EXPECT_DER("\x70\x82\x00\x05\x02\x01\x01\xB0\x00", SH_E_ENT_DER_LENGTH_NOT_MINIMAL, 1);
    /* indefinite length (BER) */
    EXPECT_DER("\x70\x80\x02\x01\x01\xB0\x00\x00\x00", SH_E_ENT_DER_INDEFINITE_LENGTH, 1);
    EXPECT_DER("\x70\x07\x02\x01\x01\xB0\x80\x00\x00", SH_E_ENT_DER_INDEFINITE_LENGTH, 6);
    /* inner length past its container */
    EXPECT_DER("\x70\x05\x02\x01\x01\xB0\x01\x30", SH_E_ENT_DER_TRUNCATED, 5);
    /* high tag number form */
    EXPECT_DER("\x7F\x10\x00", SH_E_ENT_DER_UNEXPECTED_TAG, 0);
    /* wrong top-level tag */
    EXPECT_DER("\x30\x00", SH_E_ENT_DER_UNEXPECTED_TAG, 0);
    /* trailing garbage after the top element, and inside it */
    EXPECT_DER("\x70\x05\x02\x01\x01\xB0\x00\x00", SH_E_ENT_DER_TRAILING_DATA, 7);
    EXPECT_DER("\x70\x07\x02\x01\x01\xB0\x00\x05\x00", SH_E_ENT_DER_TRAILING_DATA, 7);
}

static void hostile_der_version_and_root(void **state)
{
    (void)state;
    sh_error err = {0};
    assert_int_equal(der_fail("\x70\x05\x02\x01\x02\xB0\x00", 7, &err, NULL),
                     SH_E_ENT_DER_BAD_VERSION);
    assert_int_equal(err.offset, 2);
    assert_int_equal(err.value, 2);
    EXPECT_DER("\x70\x05\x02\x01\x00\xB0\x00", SH_E_ENT_DER_BAD_VERSION, 2);
    EXPECT_DER("\x70\x05\x01\x01\x01\xB0\x00", SH_E_ENT_DER_UNEXPECTED_TAG, 2);
    EXPECT_DER("\x70\x06\x02\x02\x00\x01\xB0\x00", SH_E_ENT_DER_INT_NOT_MINIMAL, 2);
    EXPECT_DER("\x70\x04\x02\x00\xB0\x00", SH_E_ENT_DER_INT_NOT_MINIMAL, 2);
    EXPECT_DER("\x70\x03\x02\x01\x01", SH_E_ENT_ROOT_NOT_DICT, 5);
    EXPECT_DER("\x70\x05\x02\x01\x01\x30\x00", SH_E_ENT_ROOT_NOT_DICT, 5);
    EXPECT_DER("\x70\x05\x02\x01\x01\x31\x00", SH_E_ENT_DER_UNEXPECTED_TAG, 5);
}

/* One entry {k: value} in the current form. */
static sh_err one_entry(const char *key, const void *value, size_t vn, sh_error *err,
                        sh_ent_path *path)
{
    buf ent = {0}, doc = {0};
    b_entry(&ent, key, value, vn);
    b_current(&doc, ent.p, ent.len);
    sh_err r = der_fail(doc.p, doc.len, err, path);
    b_free(&ent);
    b_free(&doc);
    return r;
}

static void hostile_der_values(void **state)
{
    (void)state;
    sh_error err = {0};
    sh_ent_path path;
    /* booleans: 0x01 is not DER true in the current form; wrong length */
    assert_int_equal(one_entry("b", "\x01\x01\x01", 3, &err, &path), SH_E_ENT_DER_BAD_BOOLEAN);
    assert_int_equal(err.value, 1);
    assert_int_equal(err.offset, 7 + 5 + 2); /* the content octet */
    assert_string_equal(path.text, "b");
    assert_int_equal(one_entry("b", "\x01\x02\xFF\xFF", 4, &err, NULL), SH_E_ENT_DER_BAD_BOOLEAN);
    assert_int_equal(one_entry("b", "\x01\x00", 2, &err, NULL), SH_E_ENT_DER_BAD_BOOLEAN);
    /* integers: non-minimal positive and negative, empty, 9 octets */
    assert_int_equal(one_entry("i", "\x02\x02\x00\x05", 4, &err, &path),
                     SH_E_ENT_DER_INT_NOT_MINIMAL);
    assert_string_equal(path.text, "i");
    assert_int_equal(one_entry("i", "\x02\x02\xFF\x80", 4, &err, NULL),
                     SH_E_ENT_DER_INT_NOT_MINIMAL);
    assert_int_equal(one_entry("i", "\x02\x00", 2, &err, NULL), SH_E_ENT_DER_INT_NOT_MINIMAL);
    assert_int_equal(one_entry("i", "\x02\x09\x01\x00\x00\x00\x00\x00\x00\x00\x00", 11, &err, NULL),
                     SH_E_ENT_INT_RANGE);
    assert_int_equal(err.value, 9);
    /* strings: invalid UTF-8, overlong, surrogate, NUL */
    assert_int_equal(one_entry("s", "\x0C\x02\xC3\x28", 4, &err, &path), SH_E_ENT_BAD_UTF8);
    assert_int_equal(err.offset, 7 + 5 + 2);
    assert_int_equal(one_entry("s", "\x0C\x02\xC0\xAF", 4, &err, NULL), SH_E_ENT_BAD_UTF8);
    assert_int_equal(one_entry("s", "\x0C\x03\xED\xA0\x80", 5, &err, NULL), SH_E_ENT_BAD_UTF8);
    assert_int_equal(one_entry("s", "\x0C\x03\x61\x00\x62", 5, &err, NULL),
                     SH_E_ENT_NUL_IN_STRING);
    assert_int_equal(err.offset, 7 + 5 + 3);
    /* key with NUL: names the key */
    assert_int_equal(one_entry("", "\x01\x01\xFF", 3, &err, NULL), SH_E_OK);
    {
        buf e = {0}, doc = {0};
        b_put(&e, "\x30\x07\x0C\x02\x61\x00\x01\x01\xFF", 9);
        b_current(&doc, e.p, e.len);
        assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_ENT_NUL_IN_STRING);
        assert_string_equal(path.text, "a\\x00");
        b_free(&e);
        b_free(&doc);
    }
    /* OCTET STRING, NULL, REAL: no encoding in the current form */
    assert_int_equal(one_entry("d", "\x04\x01\x00", 3, &err, NULL), SH_E_ENT_DER_UNEXPECTED_TAG);
    assert_int_equal(err.value, 0x04);
    assert_int_equal(one_entry("d", "\x05\x00", 2, &err, NULL), SH_E_ENT_DER_UNEXPECTED_TAG);
    /* a legacy SET dict inside the current form */
    assert_int_equal(one_entry("d", "\x31\x00", 2, &err, NULL), SH_E_ENT_DER_UNEXPECTED_TAG);
}

static void hostile_der_entries_and_keys(void **state)
{
    (void)state;
    sh_error err = {0};
    sh_ent_path path;
    /* unsorted keys: the second key is named */
    {
        buf e = {0}, doc = {0};
        b_entry(&e, "b", "\x01\x01\xFF", 3);
        b_entry(&e, "a", "\x01\x01\xFF", 3);
        b_current(&doc, e.p, e.len);
        assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_ENT_DER_KEY_ORDER);
        assert_string_equal(path.text, "a");
        assert_int_equal(err.index, 1);
        assert_int_equal(err.offset, 7 + 8 + 2);
        b_free(&e);
        b_free(&doc);
    }
    /* byte order, not locale or length order: "B" < "a", "ab" > "a" */
    {
        buf e = {0}, doc = {0};
        b_entry(&e, "B", "\x01\x01\xFF", 3);
        b_entry(&e, "a", "\x01\x01\xFF", 3);
        b_entry(&e, "ab", "\x01\x01\xFF", 3);
        b_current(&doc, e.p, e.len);
        assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_OK);
        b_free(&e);
        b_free(&doc);
    }
    /* duplicate keys */
    {
        buf e = {0}, doc = {0};
        b_entry(&e, "a", "\x01\x01\xFF", 3);
        b_entry(&e, "a", "\x01\x01\x00", 3);
        b_current(&doc, e.p, e.len);
        assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_ENT_DUPLICATE_KEY);
        assert_string_equal(path.text, "a");
        assert_int_equal(err.index, 1);
        b_free(&e);
        b_free(&doc);
    }
    /* nested: the path names the whole way */
    {
        buf inner = {0}, innertlv = {0}, arr = {0}, e = {0}, doc = {0};
        b_entry(&inner, "z", "\x01\x01\xFF", 3);
        b_entry(&inner, "y", "\x01\x01\xFF", 3);
        b_tlv(&innertlv, 0xB0, inner.p, inner.len);
        b_put(&arr, "\x01\x01\x00", 3);
        b_put(&arr, innertlv.p, innertlv.len);
        buf arrtlv = {0};
        b_tlv(&arrtlv, 0x30, arr.p, arr.len);
        b_entry(&e, "outer", arrtlv.p, arrtlv.len);
        b_current(&doc, e.p, e.len);
        assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_ENT_DER_KEY_ORDER);
        assert_string_equal(path.text, "outer[1]/y");
        b_free(&inner);
        b_free(&innertlv);
        b_free(&arr);
        b_free(&arrtlv);
        b_free(&e);
        b_free(&doc);
    }
    /* entries: not a SEQUENCE, empty, key only, three elements, key not UTF8String */
    EXPECT_DER("\x70\x09\x02\x01\x01\xB0\x04\x31\x02\x0C\x00", SH_E_ENT_DER_ENTRY_MALFORMED, 7);
    EXPECT_DER("\x70\x07\x02\x01\x01\xB0\x02\x30\x00", SH_E_ENT_DER_ENTRY_MALFORMED, 7);
    EXPECT_DER("\x70\x0A\x02\x01\x01\xB0\x05\x30\x03\x0C\x01\x61", SH_E_ENT_DER_ENTRY_MALFORMED, 7);
    EXPECT_DER("\x70\x10\x02\x01\x01\xB0\x0B\x30\x09\x0C\x01\x61\x01\x01\xFF\x01\x01\xFF",
               SH_E_ENT_DER_ENTRY_MALFORMED, 15);
    EXPECT_DER("\x70\x0D\x02\x01\x01\xB0\x08\x30\x06\x13\x01\x61\x01\x01\xFF",
               SH_E_ENT_DER_UNEXPECTED_TAG, 9);
}

static void hostile_der_limits(void **state)
{
    (void)state;
    sh_error err = {0};
    /* depth bomb: arrays nested past SH_MAX_DER_DEPTH (the root dict is level 1) */
    for (unsigned levels = SH_MAX_DER_DEPTH - 2; levels <= SH_MAX_DER_DEPTH + 40; levels++) {
        buf v = {0};
        b_put(&v, "\x01\x01\xFF", 3);
        for (unsigned i = 0; i < levels; i++) {
            buf w = {0};
            b_tlv(&w, 0x30, v.p, v.len);
            b_free(&v);
            v = w;
        }
        sh_err r = one_entry("deep", v.p, v.len, &err, NULL);
        assert_int_equal(r, levels + 1 <= SH_MAX_DER_DEPTH ? SH_E_OK : SH_E_ENT_DER_TOO_DEEP);
        b_free(&v);
    }
    /* item bomb: one array of SH_MAX_DER_ITEMS booleans (plus the root: one too many) */
    {
        buf items = {0}, arr = {0};
        for (unsigned i = 0; i < SH_MAX_DER_ITEMS - 1; i++)
            b_put(&items, "\x01\x01\x00", 3);
        b_tlv(&arr, 0x30, items.p, items.len);
        /* root + array + items = SH_MAX_DER_ITEMS + 1 */
        assert_int_equal(one_entry("a", arr.p, arr.len, &err, NULL), SH_E_ENT_DER_TOO_MANY_ITEMS);
        b_free(&arr);
        items.len -= 3; /* root + array + (max - 2) items = max: fine */
        b_tlv(&arr, 0x30, items.p, items.len);
        assert_int_equal(one_entry("a", arr.p, arr.len, &err, NULL), SH_E_OK);
        b_free(&arr);
        b_free(&items);
    }
}

static void legacy_set_form(void **state)
{
    (void)state;
    sh_error err = {0};
    sh_ent_path path;
    /* ldid-style: bool 0x01, dict 0x31, data 0x04, sorted as a DER SET (by encoding) */
    buf e = {0}, doc = {0};
    b_entry(&e, "zz", "\x01\x01\x01", 3);   /* 30 07 ... shortest first */
    b_entry(&e, "a-longer-key", "\x01\x01\xFF", 3);
    b_entry(&e, "a-longest-key", "\x04\x02\xAB\xCD", 4);
    b_tlv(&doc, 0x31, e.p, e.len);
    sh_entitlements d;
    assert_int_equal(der(doc.p, doc.len, &d, NULL, &err), SH_E_OK);
    assert_int_equal(d.form, SH_ENT_FORM_DER_LEGACY);
    assert_string_equal(d.root.keys[0].str, "a-longer-key");
    assert_string_equal(d.root.keys[2].str, "zz");
    assert_true(sh_ent_get_bool(&d.root, "zz"));
    assert_int_equal(sh_ent_dict_get(&d.root, "a-longest-key")->type, SH_ENT_DATA);
    /* data has no DER encoding in Apple's format */
    uint8_t *out = NULL;
    size_t len;
    assert_int_equal(sh_entitlements_encode_der(&d.root, NULL, &out, &len, &path, &err),
                     SH_E_ENT_DER_UNENCODABLE);
    assert_int_equal(err.index, SH_ENT_DATA);
    assert_string_equal(path.text, "a-longest-key");
    assert_null(out);
    sh_entitlements_free(&d);
    b_free(&doc);

    /* out of SET order */
    b_tlv(&doc, 0x31, e.p + 9, e.len - 9);
    b_put(&doc, e.p, 9);
    doc.p[1] = (uint8_t)(e.len); /* same content, first entry moved last */
    assert_int_equal(der_fail(doc.p, doc.len, &err, NULL), SH_E_ENT_DER_SET_ORDER);
    assert_int_equal(err.index, 2);
    b_free(&doc);
    b_free(&e);

    /* duplicate keys with different values: in SET order, still refused */
    b_entry(&e, "a", "\x01\x01\x00", 3);
    b_entry(&e, "a", "\x01\x01\xFF", 3);
    b_tlv(&doc, 0x31, e.p, e.len);
    assert_int_equal(der_fail(doc.p, doc.len, &err, &path), SH_E_ENT_DUPLICATE_KEY);
    assert_string_equal(path.text, "a");
    b_free(&doc);
    b_free(&e);

    /* a 0xB0 dict inside the legacy form, and bool 0x02 */
    b_entry(&e, "a", "\xB0\x00", 2);
    b_tlv(&doc, 0x31, e.p, e.len);
    assert_int_equal(der_fail(doc.p, doc.len, &err, NULL), SH_E_ENT_DER_UNEXPECTED_TAG);
    b_free(&doc);
    b_free(&e);
    b_entry(&e, "a", "\x01\x01\x02", 3);
    b_tlv(&doc, 0x31, e.p, e.len);
    assert_int_equal(der_fail(doc.p, doc.len, &err, NULL), SH_E_ENT_DER_BAD_BOOLEAN);
    b_free(&doc);
    b_free(&e);
}

static void blob_headers(void **state)
{
    (void)state;
    sh_entitlements e;
    sh_error err = {0};
    uint8_t blob[8 + sizeof KEY_TRUE];
    memcpy(blob, "\xfa\xde\x71\x72\x00\x00\x00\x19", 8);
    memcpy(blob + 8, KEY_TRUE, sizeof KEY_TRUE);
    uint8_t *copy = exact(blob, sizeof blob);
    sh_cursor c = sh_cursor_make(copy, sizeof blob);
    assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e, NULL, &err), SH_E_OK);
    sh_entitlements_free(&e);
    /* the XML magic in a DER slot */
    assert_int_equal(sh_entitlements_parse_xml_blob(&c, NULL, &e, NULL, &err),
                     SH_E_ENT_BLOB_BAD_MAGIC);
    assert_int_equal(err.value, 0xfade7172);
    copy[7] = 0x1a; /* length one too long */
    assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e, NULL, &err),
                     SH_E_ENT_BLOB_BAD_LENGTH);
    assert_int_equal(err.offset, 4);
    copy[7] = 0x07; /* shorter than the header */
    assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e, NULL, &err),
                     SH_E_ENT_BLOB_BAD_LENGTH);
    copy[7] = 0x18; /* one too short: the view has a byte left over */
    assert_int_equal(sh_entitlements_parse_der_blob(&c, NULL, &e, NULL, &err),
                     SH_E_ENT_BLOB_BAD_LENGTH);
    free(copy);
}

/* ---- XML entitlements ------------------------------------------------------------------- */

static void xml_entitlements_rules(void **state)
{
    (void)state;
    sh_entitlements e;
    sh_error err = {0};
    sh_ent_path path;
    /* root must be a dict */
    assert_int_equal(xml("<plist><array/></plist>", &e, NULL, &err), SH_E_ENT_ROOT_NOT_DICT);
    assert_int_equal(xml("<plist><string>x</string></plist>", &e, NULL, &err),
                     SH_E_ENT_ROOT_NOT_DICT);
    /* integers beyond int64 */
    assert_int_equal(xml("<plist><dict><key>a</key><integer>9223372036854775808</integer>"
                         "</dict></plist>",
                         &e, NULL, &err),
                     SH_E_ENT_INT_RANGE);
    assert_int_equal(err.offset, 25);
    assert_int_equal(xml("<plist><dict><key>a</key><integer>-9223372036854775808</integer>"
                         "</dict></plist>",
                         &e, NULL, &err),
                     SH_E_OK);
    assert_true(sh_ent_dict_get(&e.root, "a")->integer == INT64_MIN);
    sh_entitlements_free(&e);
    /* binary plist in the XML slot */
    assert_int_equal(xml("bplist00\xd0\x08\x00\x00\x00\x00\x00\x00\x01\x01", &e, NULL, &err),
                     SH_E_ENT_NOT_XML);
    /* guard errors come through unchanged */
    assert_int_equal(xml("<plist><dict><key>a</key><true/><key>a</key><false/></dict></plist>",
                         &e, NULL, &err),
                     SH_E_PLIST_DUPLICATE_KEY);
    assert_int_equal(xml("", &e, NULL, &err), SH_E_PLIST_UNKNOWN_FORMAT);
    /* data, date and real parse but cannot be DER-encoded; the path says where */
    assert_int_equal(xml("<plist><dict><key>x</key><dict><key>blob</key><data>AAEC</data>"
                         "<key>when</key><date>2024-01-02T03:04:05Z</date>"
                         "<key>r</key><real>1.5</real></dict></dict></plist>",
                         &e, &path, &err),
                     SH_E_OK);
    const sh_ent_node *x = sh_ent_dict_get(&e.root, "x");
    assert_int_equal(sh_ent_dict_get(x, "blob")->len, 3);
    assert_true(sh_ent_dict_get(x, "r")->real == 1.5);
    assert_true(sh_ent_dict_get(x, "when")->real == 725857445.0);
    uint8_t *out = NULL;
    size_t len;
    assert_int_equal(sh_entitlements_encode_der(&e.root, NULL, &out, &len, &path, &err),
                     SH_E_ENT_DER_UNENCODABLE);
    assert_string_equal(path.text, "x/blob");
    assert_int_equal(err.index, SH_ENT_DATA);
    sh_entitlements_free(&e);
    /* strings with entities, CDATA and non-ASCII round trip through DER */
    assert_int_equal(xml("<plist><dict><key>k&amp;&#x263A;</key><string>a<![CDATA[<b>]]>"
                         "&lt;c&gt;\xc3\xa9</string></dict></plist>",
                         &e, NULL, &err),
                     SH_E_OK);
    assert_string_equal(sh_ent_get_string(&e.root, "k&\xe2\x98\xba"), "a<b><c>\xc3\xa9");
    encode_ok(&e.root, &out, &len);
    sh_entitlements d;
    assert_int_equal(der(out, len, &d, NULL, &err), SH_E_OK);
    assert_int_equal(sh_entitlements_compare(&e.root, &d.root, NULL, &err), SH_E_OK);
    free(out);
    sh_entitlements_free(&d);
    sh_entitlements_free(&e);
}

static void encoder_refuses_what_the_decoder_would(void **state)
{
    (void)state;
    sh_error err = {0};
    sh_ent_path path;
    uint8_t *out = NULL;
    size_t len = 0;
    /* hand-built trees: unsorted and duplicate keys, a non-dict root, a NUL in a string */
    sh_ent_node items[2] = {{.type = SH_ENT_BOOL, .boolean = true}, {.type = SH_ENT_BOOL}};
    sh_ent_key keys[2] = {{.str = "b", .len = 1}, {.str = "a", .len = 1}};
    sh_ent_node dict = {.type = SH_ENT_DICT, .count = 2, .items = items, .keys = keys};
    assert_int_equal(sh_entitlements_encode_der(&dict, NULL, &out, &len, &path, &err),
                     SH_E_ENT_DER_KEY_ORDER);
    assert_string_equal(path.text, "a");
    keys[1].str = "b";
    assert_int_equal(sh_entitlements_encode_der(&dict, NULL, &out, &len, &path, &err),
                     SH_E_ENT_DUPLICATE_KEY);
    assert_int_equal(sh_entitlements_encode_der(&items[0], NULL, &out, &len, &path, &err),
                     SH_E_ENT_ROOT_NOT_DICT);
    uint8_t nul[] = {'a', 0, 'b', 0};
    sh_ent_node str = {.type = SH_ENT_STRING, .bytes = nul, .len = 3};
    sh_ent_key k1 = {.str = "s", .len = 1};
    sh_ent_node d1 = {.type = SH_ENT_DICT, .count = 1, .items = &str, .keys = &k1};
    assert_int_equal(sh_entitlements_encode_der(&d1, NULL, &out, &len, &path, &err),
                     SH_E_ENT_NUL_IN_STRING);
    assert_null(out);

    /* XML allows deeper nesting than DER: the encoder refuses past SH_MAX_DER_DEPTH */
    buf doc = {0};
    b_put(&doc, "<plist><dict><key>k</key>", 25);
    for (unsigned i = 0; i < SH_MAX_DER_DEPTH; i++)
        b_put(&doc, "<array>", 7);
    for (unsigned i = 0; i < SH_MAX_DER_DEPTH; i++)
        b_put(&doc, "</array>", 8);
    b_put(&doc, "</dict></plist>", 16); /* with the terminator */
    sh_entitlements e;
    assert_int_equal(xml((const char *)doc.p, &e, NULL, &err), SH_E_OK);
    assert_int_equal(sh_entitlements_encode_der(&e.root, NULL, &out, &len, &path, &err),
                     SH_E_ENT_DER_TOO_DEEP);
    /* the first array is "k", the one past the limit (depth SH_MAX_DER_DEPTH + 1) is 31 deeper */
    char expect[256] = "k";
    for (unsigned i = 0; i + 1 < SH_MAX_DER_DEPTH; i++)
        strcat(expect, "[0]");
    assert_string_equal(path.text, expect);
    sh_entitlements_free(&e);
    b_free(&doc);

    /* empty keys, empty data and empty strings survive */
    assert_int_equal(xml("<plist><dict><key></key><data/><key>e</key><string/></dict></plist>", &e,
                         NULL, &err),
                     SH_E_OK);
    assert_int_equal(sh_ent_dict_get(&e.root, "")->type, SH_ENT_DATA);
    assert_int_equal(sh_ent_dict_get(&e.root, "")->len, 0);
    assert_string_equal(sh_ent_get_string(&e.root, "e"), "");
    sh_entitlements_free(&e);
}

/* ---- comparison ---------------------------------------------------------------------------- */

static void compare_reports_first_difference(void **state)
{
    (void)state;
    static const char head[] = "<plist><dict>";
    static const char tail[] = "</dict></plist>";
    static const struct {
        const char *a, *b;
        sh_ent_diff_kind kind;
        const char *path;
        const char *text;
    } cases[] = {
        {"<key>a</key><true/>", "<key>a</key><false/>", SH_ENT_DIFF_VALUE, "a",
         "a: bool true in XML, bool false in DER"},
        {"<key>a</key><true/>", "<key>a</key><string>true</string>", SH_ENT_DIFF_TYPE, "a",
         "a: bool true in XML, string \"true\" in DER"},
        {"<key>a</key><true/><key>b</key><true/>", "<key>b</key><true/>", SH_ENT_DIFF_ONLY_IN_A,
         "a", "a: bool true in XML, absent in DER"},
        {"<key>b</key><true/>", "<key>a</key><integer>7</integer><key>b</key><true/>",
         SH_ENT_DIFF_ONLY_IN_B, "a", "a: absent in XML, integer 7 in DER"},
        {"<key>g</key><array><string>x</string></array>",
         "<key>g</key><array><string>x</string><string>y</string></array>", SH_ENT_DIFF_LENGTH,
         "g", "g: array of 1 items in XML, array of 2 items in DER"},
        {"<key>g</key><array><string>x</string><string>y</string></array>",
         "<key>g</key><array><string>x</string><string>z</string></array>", SH_ENT_DIFF_VALUE,
         "g[1]", "g[1]: string \"y\" in XML, string \"z\" in DER"},
        {"<key>d</key><dict><key>n</key><integer>1</integer></dict>",
         "<key>d</key><dict><key>n</key><integer>-1</integer></dict>", SH_ENT_DIFF_VALUE, "d/n",
         "d/n: integer 1 in XML, integer -1 in DER"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ta[512], tb[512];
        snprintf(ta, sizeof ta, "%s%s%s", head, cases[i].a, tail);
        snprintf(tb, sizeof tb, "%s%s%s", head, cases[i].b, tail);
        sh_entitlements a, b;
        sh_error err = {0};
        assert_int_equal(xml(ta, &a, NULL, &err), SH_E_OK);
        assert_int_equal(xml(tb, &b, NULL, &err), SH_E_OK);
        /* compare against the DER decoding of b so types and offsets come from DER */
        uint8_t *out;
        size_t len;
        encode_ok(&b.root, &out, &len);
        sh_entitlements d;
        assert_int_equal(der(out, len, &d, NULL, &err), SH_E_OK);
        sh_ent_diff diff;
        assert_int_equal(sh_entitlements_compare(&a.root, &d.root, &diff, &err), SH_E_ENT_MISMATCH);
        assert_int_equal(diff.kind, cases[i].kind);
        assert_int_equal(err.index, cases[i].kind);
        assert_string_equal(diff.path.text, cases[i].path);
        char text[256];
        sh_ent_diff_format(&diff, "XML", "DER", text, sizeof text);
        assert_string_equal(text, cases[i].text);
        assert_int_equal(sh_entitlements_compare(&b.root, &d.root, &diff, &err), SH_E_OK);
        assert_int_equal(diff.kind, SH_ENT_DIFF_NONE);
        free(out);
        sh_entitlements_free(&a);
        sh_entitlements_free(&b);
        sh_entitlements_free(&d);
    }
}

/* ---- allocation failures ------------------------------------------------------------------ */

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    file_bytes f = load_sample("macho", "fastlane_very_capable_app_selfsigned");
    slice_ents s[2];
    assert_true(sample_entitlements(&f, s, 2) >= 1);
    file_bytes g = load_sample("macho", "appinfo_GuiApp_universal");
    slice_ents t[2];
    assert_int_equal(sample_entitlements(&g, t, 2), 2);
    for (int which = 0; which < 3; which++) {
        bool done = false;
        for (long k = 0; !done; k++) {
            failing_alloc fl;
            sh_allocator a = failing_alloc_start(&fl, k);
            sh_entitlements e;
            sh_error err = {0};
            sh_err r;
            if (which == 0) {
                r = sh_entitlements_parse_xml_blob(&s[0].xml, &a, &e, NULL, &err);
            } else if (which == 1) {
                r = sh_entitlements_parse_der_blob(&t[0].der, &a, &e, NULL, &err);
            } else {
                sh_entitlements x;
                sh_error e2 = {0};
                assert_int_equal(sh_entitlements_parse_xml_blob(&s[0].xml, NULL, &x, NULL, &e2),
                                 SH_E_OK);
                uint8_t *out = NULL;
                size_t len;
                r = sh_entitlements_encode_der(&x.root, &a, &out, &len, NULL, &err);
                if (r == SH_E_OK)
                    sh_free(&a, out);
                sh_entitlements_free(&x);
                memset(&e, 0, sizeof e);
                e.alloc = &a;
            }
            if (r == SH_E_OK) {
                done = true;
                assert_true(k > 0);
            } else {
                assert_int_equal(r, SH_E_NO_MEMORY);
            }
            sh_entitlements_free(&e);
            assert_int_equal(fl.live, 0);
        }
    }
    free(f.data);
    free(g.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_decode_and_encode_byte_exact),
        cmocka_unit_test(integers_encode_minimally),
        cmocka_unit_test(long_lengths_round_trip),
        cmocka_unit_test(nested_values_and_lookup),
        cmocka_unit_test(sparkle_xml_and_der_agree_and_reencode),
        cmocka_unit_test(guiapp_legacy_set_agrees_with_xml),
        cmocka_unit_test(xml_only_samples_parse_and_encode),
        cmocka_unit_test(sparkle_der_truncated_everywhere),
        cmocka_unit_test(hostile_der_lengths_and_tags),
        cmocka_unit_test(hostile_der_version_and_root),
        cmocka_unit_test(hostile_der_values),
        cmocka_unit_test(hostile_der_entries_and_keys),
        cmocka_unit_test(hostile_der_limits),
        cmocka_unit_test(legacy_set_form),
        cmocka_unit_test(blob_headers),
        cmocka_unit_test(xml_entitlements_rules),
        cmocka_unit_test(encoder_refuses_what_the_decoder_would),
        cmocka_unit_test(compare_reports_first_difference),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
