/* Entitlements: XML and DER decoders, DER encoder, comparison.  See entitlements.h. */
#include "entitlements.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "plist_guard.h"
#include "superblob.h"

#define DER_TAG_BOOLEAN 0x01u
#define DER_TAG_INTEGER 0x02u
#define DER_TAG_OCTET_STRING 0x04u
#define DER_TAG_UTF8STRING 0x0Cu
#define DER_TAG_SEQUENCE 0x30u
#define DER_TAG_SET 0x31u
#define DER_TAG_APP16 0x70u /* [APPLICATION 16] constructed: the current form's wrapper */
#define DER_TAG_CTX16 0xB0u /* [CONTEXT 16] constructed: a dict in the current form */

/* ------------------------------------------------------------------------------------------ */
/* Key paths                                                                                  */

typedef struct pathbuf {
    sh_ent_path *p;
    size_t len;
} pathbuf;

static void path_put(pathbuf *pb, const char *s, size_t n)
{
    const size_t cap = sizeof pb->p->text;
    for (size_t i = 0; i < n; i++) {
        if (pb->len + 4 >= cap) { /* room for "..." and the terminator */
            if (pb->len + 3 < cap)
                memcpy(pb->p->text + pb->len, "...", 3), pb->len += 3;
            break;
        }
        pb->p->text[pb->len++] = s[i];
    }
    pb->p->text[pb->len < cap ? pb->len : cap - 1] = 0;
}

static size_t path_push_key(pathbuf *pb, const uint8_t *key, size_t n)
{
    size_t old = pb->len;
    if (old > 0)
        path_put(pb, "/", 1);
    for (size_t i = 0; i < n; i++) {
        char tmp[8];
        if (key[i] >= 0x20 && key[i] < 0x7F && key[i] != '\\') {
            tmp[0] = (char)key[i];
            path_put(pb, tmp, 1);
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02x", key[i]);
            path_put(pb, tmp, 4);
        }
    }
    return old;
}

static size_t path_push_index(pathbuf *pb, size_t i)
{
    size_t old = pb->len;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
    path_put(pb, tmp, (size_t)n);
    return old;
}

static void path_pop(pathbuf *pb, size_t old)
{
    pb->len = old;
    pb->p->text[old] = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Tree helpers                                                                               */

static void node_free(const sh_allocator *a, sh_ent_node *n)
{
    if (n->items) {
        for (size_t i = 0; i < n->count; i++)
            node_free(a, &n->items[i]);
        sh_free(a, n->items);
    }
    if (n->keys) {
        for (size_t i = 0; i < n->count; i++)
            sh_free(a, n->keys[i].str);
        sh_free(a, n->keys);
    }
    sh_free(a, n->bytes);
    memset(n, 0, sizeof *n);
}

void sh_entitlements_free(sh_entitlements *e)
{
    if (!e)
        return;
    node_free(e->alloc, &e->root);
    e->form = SH_ENT_FORM_NONE;
    e->nodes = 0;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static int key_cmp(const sh_ent_key *a, const sh_ent_key *b)
{
    return bytes_cmp(a->str, a->len, b->str, b->len);
}

/* Allocates a dict's or array's children. */
static bool alloc_children(const sh_allocator *a, sh_ent_node *n, size_t count, bool keys)
{
    n->items = sh_calloc(a, count, sizeof *n->items);
    if (keys)
        n->keys = sh_calloc(a, count, sizeof *n->keys);
    if (!n->items || (keys && !n->keys)) {
        sh_free(a, n->items);
        sh_free(a, n->keys);
        n->items = NULL;
        n->keys = NULL;
        return false;
    }
    n->count = count;
    return true;
}

/* Heap sort of an index permutation by key (no recursion, comparator without globals). */
static void sift_keys(const sh_ent_key *keys, size_t *idx, size_t start, size_t end)
{
    size_t root = start;
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1, sw = root;
        if (key_cmp(&keys[idx[sw]], &keys[idx[child]]) < 0)
            sw = child;
        if (child + 1 < end && key_cmp(&keys[idx[sw]], &keys[idx[child + 1]]) < 0)
            sw = child + 1;
        if (sw == root)
            return;
        size_t t = idx[root];
        idx[root] = idx[sw];
        idx[sw] = t;
        root = sw;
    }
}

static void sort_keys(const sh_ent_key *keys, size_t *idx, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_keys(keys, idx, i, n);
    for (size_t end = n; end-- > 1;) {
        size_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_keys(keys, idx, 0, end);
    }
}

/* Puts a dict's entries in key order.  Returns false on allocation failure.  *dup is the index (in
 * the original order) of the later of two equal keys, or SIZE_MAX. */
static bool sort_dict(const sh_allocator *a, sh_ent_node *n, size_t *dup)
{
    *dup = SIZE_MAX;
    size_t c = n->count;
    if (c < 2)
        return true;
    size_t *idx = sh_calloc(a, c, sizeof *idx);
    sh_ent_node *items = sh_calloc(a, c, sizeof *items);
    sh_ent_key *keys = sh_calloc(a, c, sizeof *keys);
    if (!idx || !items || !keys) {
        sh_free(a, idx);
        sh_free(a, items);
        sh_free(a, keys);
        return false;
    }
    for (size_t i = 0; i < c; i++)
        idx[i] = i;
    sort_keys(n->keys, idx, c);
    for (size_t i = 1; i < c; i++)
        if (key_cmp(&n->keys[idx[i - 1]], &n->keys[idx[i]]) == 0) {
            size_t later = idx[i] > idx[i - 1] ? idx[i] : idx[i - 1];
            if (*dup == SIZE_MAX || later < *dup)
                *dup = later;
        }
    if (*dup != SIZE_MAX) { /* leave the order alone so the caller can name the key */
        sh_free(a, idx);
        sh_free(a, items);
        sh_free(a, keys);
        return true;
    }
    for (size_t i = 0; i < c; i++) {
        items[i] = n->items[idx[i]];
        keys[i] = n->keys[idx[i]];
    }
    sh_free(a, n->items);
    sh_free(a, n->keys);
    n->items = items;
    n->keys = keys;
    sh_free(a, idx);
    return true;
}

/* Copies n bytes from a view into a fresh NUL-terminated buffer. */
static uint8_t *copy_view(const sh_allocator *a, sh_cursor v)
{
    size_t n = sh_cursor_len(&v);
    if (n == SIZE_MAX)
        return NULL;
    uint8_t *p = sh_calloc(a, n + 1, 1);
    if (p && n && !sh_cursor_copy(&v, p, n)) {
        sh_free(a, p);
        return NULL;
    }
    return p;
}

/* A key or string value: valid UTF-8 without NUL. */
static sh_err check_text(sh_cursor v, const char *where, int64_t index, sh_error *err)
{
    uint64_t bad;
    if (!sh_utf8_valid(&v, &bad))
        return sh_fail(err, SH_E_ENT_BAD_UTF8, where, index, bad);
    uint8_t b;
    while (sh_cursor_len(&v) > 0) {
        uint64_t off = sh_cursor_pos(&v);
        sh_cursor_u8(&v, &b);
        if (b == 0)
            return sh_fail(err, SH_E_ENT_NUL_IN_STRING, where, index, off);
    }
    return SH_E_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* DER decoding                                                                               */

typedef struct der_ctx {
    const sh_allocator *alloc;
    sh_error *err;
    pathbuf *pb;
    bool legacy;
    uint32_t items; /* values decoded or reserved, the root dict included */
} der_ctx;

typedef struct tlv {
    uint8_t tag;
    uint64_t off;     /* of the tag */
    uint64_t len_off; /* of the first length octet */
    sh_cursor content;
    sh_cursor whole; /* tag, length and content */
} tlv;

/* One element at the cursor: single-byte tag, strict DER length, content inside the cursor. */
static sh_err der_next(der_ctx *d, sh_cursor *c, tlv *t, const char *where, int64_t index)
{
    sh_cursor start = *c;
    t->off = sh_cursor_pos(c);
    if (!sh_cursor_u8(c, &t->tag))
        return sh_fail(d->err, SH_E_ENT_DER_TRUNCATED, where, index, t->off);
    if ((t->tag & 0x1F) == 0x1F)
        return sh_fail_value(d->err, SH_E_ENT_DER_UNEXPECTED_TAG, where, index, t->off, t->tag);
    t->len_off = sh_cursor_pos(c);
    uint8_t l;
    if (!sh_cursor_u8(c, &l))
        return sh_fail(d->err, SH_E_ENT_DER_TRUNCATED, where, index, t->len_off);
    uint64_t len = l;
    if (l == 0x80)
        return sh_fail(d->err, SH_E_ENT_DER_INDEFINITE_LENGTH, where, index, t->len_off);
    if (l == 0xFF)
        return sh_fail_value(d->err, SH_E_ENT_DER_LENGTH_OVERFLOW, where, index, t->len_off, l);
    if (l > 0x80) {
        unsigned n = l & 0x7Fu;
        if (n > 8)
            return sh_fail_value(d->err, SH_E_ENT_DER_LENGTH_OVERFLOW, where, index, t->len_off,
                                 n);
        len = 0;
        for (unsigned i = 0; i < n; i++) {
            uint8_t b;
            if (!sh_cursor_u8(c, &b))
                return sh_fail(d->err, SH_E_ENT_DER_TRUNCATED, where, index, t->len_off);
            if (i == 0 && b == 0)
                return sh_fail(d->err, SH_E_ENT_DER_LENGTH_NOT_MINIMAL, where, index, t->len_off);
            len = (len << 8) | b;
        }
        if (len < 0x80)
            return sh_fail_value(d->err, SH_E_ENT_DER_LENGTH_NOT_MINIMAL, where, index,
                                 t->len_off, len);
    }
    if (len > sh_cursor_len(c) || !sh_cursor_take(c, (size_t)len, &t->content))
        return sh_fail_value(d->err, SH_E_ENT_DER_TRUNCATED, where, index, t->off, len);
    sh_cursor_sub(&start, 0, sh_cursor_pos(c) - t->off, &t->whole);
    return SH_E_OK;
}

/* INTEGER content: minimal two's complement, at most 8 octets. */
static sh_err der_int(der_ctx *d, const tlv *t, const char *where, int64_t index, int64_t *out)
{
    sh_cursor v = t->content;
    size_t n = sh_cursor_len(&v);
    uint8_t b0 = 0, b1 = 0;
    if (n == 0)
        return sh_fail(d->err, SH_E_ENT_DER_INT_NOT_MINIMAL, where, index, t->off);
    sh_cursor_u8(&v, &b0);
    if (n > 1) {
        sh_cursor probe = v;
        sh_cursor_u8(&probe, &b1);
        if ((b0 == 0x00 && !(b1 & 0x80)) || (b0 == 0xFF && (b1 & 0x80)))
            return sh_fail(d->err, SH_E_ENT_DER_INT_NOT_MINIMAL, where, index, t->off);
    }
    if (n > 8)
        return sh_fail_value(d->err, SH_E_ENT_INT_RANGE, where, index, t->off, n);
    uint64_t u = (b0 & 0x80) ? UINT64_MAX : 0;
    u = (u << 8) | b0;
    uint8_t b;
    while (sh_cursor_u8(&v, &b))
        u = (u << 8) | b;
    memcpy(out, &u, sizeof *out); /* two's complement reinterpretation */
    return SH_E_OK;
}

static sh_err der_value(der_ctx *d, const tlv *t, uint32_t depth, sh_ent_node *n, int64_t index);

/* Counts the elements of a container and reserves them against SH_MAX_DER_ITEMS. */
static sh_err der_count(der_ctx *d, const tlv *t, const char *where, size_t *count)
{
    sh_cursor c = t->content;
    size_t k = 0;
    while (sh_cursor_len(&c) > 0) {
        tlv child;
        sh_err e = der_next(d, &c, &child, where, (int64_t)k);
        if (e)
            return e;
        if (d->items >= SH_MAX_DER_ITEMS)
            return sh_fail(d->err, SH_E_ENT_DER_TOO_MANY_ITEMS, where, (int64_t)k, child.off);
        d->items++;
        k++;
    }
    *count = k;
    return SH_E_OK;
}

/* X.690 SET OF order: encodings compared as octet strings, the shorter padded with zeros. */
static int der_set_cmp(sh_cursor a, sh_cursor b)
{
    uint8_t x, y;
    for (;;) {
        bool ha = sh_cursor_u8(&a, &x), hb = sh_cursor_u8(&b, &y);
        if (!ha && !hb)
            return 0;
        if (!ha)
            x = 0;
        if (!hb)
            y = 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
}

static sh_err der_dict(der_ctx *d, const tlv *t, uint32_t depth, sh_ent_node *n)
{
    n->type = SH_ENT_DICT;
    n->offset = t->off;
    if (depth > SH_MAX_DER_DEPTH)
        return sh_fail(d->err, SH_E_ENT_DER_TOO_DEEP, "DER dict", -1, t->off);
    size_t count = 0;
    sh_err e = der_count(d, t, "DER dict entry", &count);
    if (e)
        return e;
    if (count && !alloc_children(d->alloc, n, count, true))
        return sh_fail(d->err, SH_E_NO_MEMORY, "DER dict", -1, t->off);
    sh_cursor c = t->content;
    sh_cursor prev_entry = {0};
    for (size_t i = 0; i < count; i++) {
        tlv et, kt, vt;
        int64_t ix = (int64_t)i;
        der_next(d, &c, &et, "DER dict entry", ix); /* checked by der_count */
        if (et.tag != DER_TAG_SEQUENCE)
            return sh_fail_value(d->err, SH_E_ENT_DER_ENTRY_MALFORMED, "DER dict entry (tag)", ix,
                                 et.off, et.tag);
        sh_cursor ec = et.content;
        if (sh_cursor_len(&ec) == 0)
            return sh_fail(d->err, SH_E_ENT_DER_ENTRY_MALFORMED, "DER dict entry (empty)", ix,
                           et.off);
        if ((e = der_next(d, &ec, &kt, "DER dict key", ix)) != SH_E_OK)
            return e;
        if (kt.tag != DER_TAG_UTF8STRING)
            return sh_fail_value(d->err, SH_E_ENT_DER_UNEXPECTED_TAG, "DER dict key", ix, kt.off,
                                 kt.tag);
        sh_ent_key *k = &n->keys[i];
        if (!(k->str = (char *)copy_view(d->alloc, kt.content)))
            return sh_fail(d->err, SH_E_NO_MEMORY, "DER dict key", ix, kt.off);
        k->len = sh_cursor_len(&kt.content);
        k->offset = kt.off;
        size_t mark = path_push_key(d->pb, (const uint8_t *)k->str, k->len);
        if ((e = check_text(kt.content, "DER dict key", ix, d->err)) != SH_E_OK)
            return e;
        if (i > 0) {
            if (!d->legacy) {
                int cmp = key_cmp(&n->keys[i - 1], k);
                if (cmp == 0)
                    return sh_fail(d->err, SH_E_ENT_DUPLICATE_KEY, "DER dict key", ix, kt.off);
                if (cmp > 0)
                    return sh_fail(d->err, SH_E_ENT_DER_KEY_ORDER, "DER dict key", ix, kt.off);
            } else if (der_set_cmp(prev_entry, et.whole) > 0) {
                return sh_fail(d->err, SH_E_ENT_DER_SET_ORDER, "DER SET entry", ix, et.off);
            }
        }
        prev_entry = et.whole;
        if (sh_cursor_len(&ec) == 0)
            return sh_fail(d->err, SH_E_ENT_DER_ENTRY_MALFORMED, "DER dict entry (no value)", ix,
                           et.off);
        if ((e = der_next(d, &ec, &vt, "DER dict value", ix)) != SH_E_OK)
            return e;
        if ((e = der_value(d, &vt, depth, &n->items[i], ix)) != SH_E_OK)
            return e;
        if (sh_cursor_len(&ec) != 0)
            return sh_fail(d->err, SH_E_ENT_DER_ENTRY_MALFORMED,
                           "DER dict entry (more than a key and a value)", ix, sh_cursor_pos(&ec));
        path_pop(d->pb, mark);
    }
    if (d->legacy) {
        /* SET order is by encoding: duplicates need not be neighbours, and the tree wants key
         * order. */
        size_t dup;
        if (!sort_dict(d->alloc, n, &dup))
            return sh_fail(d->err, SH_E_NO_MEMORY, "DER dict", -1, t->off);
        if (dup != SIZE_MAX) {
            path_push_key(d->pb, (const uint8_t *)n->keys[dup].str, n->keys[dup].len);
            return sh_fail(d->err, SH_E_ENT_DUPLICATE_KEY, "DER dict key", (int64_t)dup,
                           n->keys[dup].offset);
        }
    }
    return SH_E_OK;
}

static sh_err der_array(der_ctx *d, const tlv *t, uint32_t depth, sh_ent_node *n)
{
    n->type = SH_ENT_ARRAY;
    n->offset = t->off;
    if (depth > SH_MAX_DER_DEPTH)
        return sh_fail(d->err, SH_E_ENT_DER_TOO_DEEP, "DER array", -1, t->off);
    size_t count = 0;
    sh_err e = der_count(d, t, "DER array item", &count);
    if (e)
        return e;
    if (count && !alloc_children(d->alloc, n, count, false))
        return sh_fail(d->err, SH_E_NO_MEMORY, "DER array", -1, t->off);
    sh_cursor c = t->content;
    for (size_t i = 0; i < count; i++) {
        tlv it;
        der_next(d, &c, &it, "DER array item", (int64_t)i); /* checked by der_count */
        size_t mark = path_push_index(d->pb, i);
        if ((e = der_value(d, &it, depth, &n->items[i], (int64_t)i)) != SH_E_OK)
            return e;
        path_pop(d->pb, mark);
    }
    return SH_E_OK;
}

static sh_err der_value(der_ctx *d, const tlv *t, uint32_t depth, sh_ent_node *n, int64_t index)
{
    n->offset = t->off;
    sh_err e;
    switch (t->tag) {
    case DER_TAG_UTF8STRING:
        n->type = SH_ENT_STRING;
        if ((e = check_text(t->content, "DER UTF8String", index, d->err)) != SH_E_OK)
            return e;
        if (!(n->bytes = copy_view(d->alloc, t->content)))
            return sh_fail(d->err, SH_E_NO_MEMORY, "DER UTF8String", index, t->off);
        n->len = sh_cursor_len(&t->content);
        return SH_E_OK;
    case DER_TAG_BOOLEAN: {
        n->type = SH_ENT_BOOL;
        sh_cursor v = t->content;
        uint8_t b = 0;
        if (sh_cursor_len(&v) != 1)
            return sh_fail_value(d->err, SH_E_ENT_DER_BAD_BOOLEAN, "DER BOOLEAN (length)", index,
                                 t->off, sh_cursor_len(&v));
        sh_cursor_u8(&v, &b);
        if (b != 0x00 && b != 0xFF && !(d->legacy && b == 0x01))
            return sh_fail_value(d->err, SH_E_ENT_DER_BAD_BOOLEAN, "DER BOOLEAN", index,
                                 sh_cursor_pos(&t->content), b);
        n->boolean = b != 0;
        return SH_E_OK;
    }
    case DER_TAG_INTEGER:
        n->type = SH_ENT_INT;
        return der_int(d, t, "DER INTEGER", index, &n->integer);
    case DER_TAG_SEQUENCE:
        return der_array(d, t, depth + 1, n);
    case DER_TAG_OCTET_STRING:
        if (!d->legacy)
            break;
        n->type = SH_ENT_DATA;
        if (!(n->bytes = copy_view(d->alloc, t->content)))
            return sh_fail(d->err, SH_E_NO_MEMORY, "DER OCTET STRING", index, t->off);
        n->len = sh_cursor_len(&t->content);
        return SH_E_OK;
    default:
        if (t->tag == (d->legacy ? DER_TAG_SET : DER_TAG_CTX16))
            return der_dict(d, t, depth + 1, n);
        break;
    }
    return sh_fail_value(d->err, SH_E_ENT_DER_UNEXPECTED_TAG, "DER value", index, t->off, t->tag);
}

static sh_err der_parse(der_ctx *d, const sh_cursor *der, sh_entitlements *out)
{
    sh_cursor c = *der;
    tlv top, vt, dt;
    sh_err e = der_next(d, &c, &top, "DER entitlements", -1);
    if (e)
        return e;
    d->items = 1; /* the root dict */
    if (top.tag == DER_TAG_APP16) {
        out->form = SH_ENT_FORM_DER;
        sh_cursor in = top.content;
        if ((e = der_next(d, &in, &vt, "DER entitlements version", -1)) != SH_E_OK)
            return e;
        if (vt.tag != DER_TAG_INTEGER)
            return sh_fail_value(d->err, SH_E_ENT_DER_UNEXPECTED_TAG, "DER entitlements version",
                                 -1, vt.off, vt.tag);
        int64_t version;
        if ((e = der_int(d, &vt, "DER entitlements version", -1, &version)) != SH_E_OK)
            return e;
        if (version != 1)
            return sh_fail_value(d->err, SH_E_ENT_DER_BAD_VERSION, "DER entitlements version", -1,
                                 vt.off, (uint64_t)version);
        if (sh_cursor_len(&in) == 0)
            return sh_fail(d->err, SH_E_ENT_ROOT_NOT_DICT, "DER entitlements (no value)", -1,
                           sh_cursor_pos(&in));
        if ((e = der_next(d, &in, &dt, "DER entitlements value", -1)) != SH_E_OK)
            return e;
        if (dt.tag != DER_TAG_CTX16) {
            bool value = dt.tag == DER_TAG_SEQUENCE || dt.tag == DER_TAG_UTF8STRING ||
                         dt.tag == DER_TAG_BOOLEAN || dt.tag == DER_TAG_INTEGER;
            return sh_fail_value(d->err,
                                 value ? SH_E_ENT_ROOT_NOT_DICT : SH_E_ENT_DER_UNEXPECTED_TAG,
                                 "DER entitlements value", -1, dt.off, dt.tag);
        }
        if ((e = der_dict(d, &dt, 1, &out->root)) != SH_E_OK)
            return e;
        if (sh_cursor_len(&in) != 0)
            return sh_fail(d->err, SH_E_ENT_DER_TRAILING_DATA, "DER entitlements (after the dict)",
                           -1, sh_cursor_pos(&in));
    } else if (top.tag == DER_TAG_SET) {
        out->form = SH_ENT_FORM_DER_LEGACY;
        d->legacy = true;
        if ((e = der_dict(d, &top, 1, &out->root)) != SH_E_OK)
            return e;
    } else {
        return sh_fail_value(d->err, SH_E_ENT_DER_UNEXPECTED_TAG, "DER entitlements", -1, top.off,
                             top.tag);
    }
    if (sh_cursor_len(&c) != 0)
        return sh_fail(d->err, SH_E_ENT_DER_TRAILING_DATA,
                       "DER entitlements (after the top element)", -1, sh_cursor_pos(&c));
    out->nodes = d->items;
    return SH_E_OK;
}

static void start(sh_entitlements *out, const sh_allocator *alloc, sh_ent_path *path,
                  sh_ent_path *local, pathbuf *pb)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    pb->p = path ? path : local;
    pb->len = 0;
    pb->p->text[0] = 0;
}

static sh_err finish(sh_entitlements *out, sh_err e, pathbuf *pb)
{
    if (e) {
        const sh_allocator *a = out->alloc;
        sh_entitlements_free(out);
        memset(out, 0, sizeof *out);
        out->alloc = a;
    } else {
        path_pop(pb, 0);
    }
    return e;
}

sh_err sh_entitlements_parse_der(const sh_cursor *der, const sh_allocator *alloc,
                                 sh_entitlements *out, sh_ent_path *path, sh_error *err)
{
    sh_ent_path local;
    pathbuf pb;
    start(out, alloc, path, &local, &pb);
    der_ctx d = {.alloc = alloc, .err = err, .pb = &pb};
    return finish(out, der_parse(&d, der, out), &pb);
}

/* The 8-byte blob header: magic, and a length equal to the view. */
static sh_err blob_payload(const sh_cursor *blob, uint32_t magic, sh_cursor *payload,
                           sh_error *err)
{
    sh_cursor c = *blob;
    uint32_t m, len;
    uint64_t off = sh_cursor_pos(blob);
    if (!sh_cursor_u32be(&c, &m) || !sh_cursor_u32be(&c, &len))
        return sh_fail_value(err, SH_E_ENT_BLOB_BAD_LENGTH, "entitlements blob header", -1, off,
                             sh_cursor_len(blob));
    if (m != magic)
        return sh_fail_value(err, SH_E_ENT_BLOB_BAD_MAGIC, "entitlements blob", -1, off, m);
    if (len < 8 || len != sh_cursor_len(blob))
        return sh_fail_value(err, SH_E_ENT_BLOB_BAD_LENGTH, "entitlements blob", -1, off + 4, len);
    *payload = c;
    return SH_E_OK;
}

/* A blob whose header is bad leaves *out empty (safe to free) and no key path. */
static sh_err blob_header_failed(sh_err e, const sh_allocator *alloc, sh_entitlements *out,
                                 sh_ent_path *path)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    if (path)
        path->text[0] = 0;
    return e;
}

sh_err sh_entitlements_parse_der_blob(const sh_cursor *blob, const sh_allocator *alloc,
                                      sh_entitlements *out, sh_ent_path *path, sh_error *err)
{
    sh_cursor payload;
    sh_err e = blob_payload(blob, SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS, &payload, err);
    if (e)
        return blob_header_failed(e, alloc, out, path);
    return sh_entitlements_parse_der(&payload, alloc, out, path, err);
}

/* ------------------------------------------------------------------------------------------ */
/* XML (through plist_guard and libplist)                                                     */

typedef struct xml_ctx {
    const sh_allocator *alloc;
    sh_error *err;
    pathbuf *pb;
    uint64_t off; /* of the plist: libplist nodes have no offsets */
    uint32_t nodes;
} xml_ctx;

static sh_err xml_text_copy(xml_ctx *x, const char *s, size_t n, const char *where, uint8_t **out)
{
    sh_cursor v = sh_cursor_make((const uint8_t *)s, n);
    v.base = x->off;
    uint64_t bad;
    if (!sh_utf8_valid(&v, &bad))
        return sh_fail(x->err, SH_E_ENT_BAD_UTF8, where, -1, x->off);
    if (!(*out = copy_view(x->alloc, v)))
        return sh_fail(x->err, SH_E_NO_MEMORY, where, -1, x->off);
    if (memchr(*out, 0, n))
        return sh_fail(x->err, SH_E_ENT_NUL_IN_STRING, where, -1, x->off);
    return SH_E_OK;
}

static sh_err xml_node(xml_ctx *x, plist_t p, uint32_t depth, sh_ent_node *n)
{
    n->offset = x->off;
    x->nodes++;
    sh_err e = SH_E_OK;
    switch (plist_get_node_type(p)) {
    case PLIST_DICT: {
        n->type = SH_ENT_DICT;
        if (depth > SH_MAX_PLIST_DEPTH)
            return sh_fail(x->err, SH_E_PLIST_TOO_DEEP, "XML entitlements dict", -1, x->off);
        size_t count = plist_dict_get_size(p);
        if (count == 0)
            return SH_E_OK;
        if (!alloc_children(x->alloc, n, count, true))
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements dict", -1, x->off);
        plist_dict_iter it = NULL;
        plist_dict_new_iter(p, &it);
        if (!it)
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements dict", -1, x->off);
        for (size_t i = 0; i < count && !e; i++) {
            char *key = NULL;
            plist_t val = NULL;
            plist_dict_next_item(p, it, &key, &val);
            if (!key || !val) {
                free(key); /* libplist's allocation */
                e = sh_fail(x->err, SH_E_PLIST_LIBPLIST_FAILED, "XML entitlements dict", (int64_t)i,
                            x->off);
                break;
            }
            size_t klen = strlen(key);
            size_t mark = path_push_key(x->pb, (const uint8_t *)key, klen);
            uint8_t *copy = NULL;
            e = xml_text_copy(x, key, klen, "XML entitlements key", &copy);
            free(key);
            n->keys[i].str = (char *)copy;
            n->keys[i].len = klen;
            n->keys[i].offset = x->off;
            if (!e)
                e = xml_node(x, val, depth + 1, &n->items[i]);
            if (!e)
                path_pop(x->pb, mark);
        }
        free(it); /* libplist's allocation */
        if (e)
            return e;
        size_t dup;
        if (!sort_dict(x->alloc, n, &dup))
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements dict", -1, x->off);
        if (dup != SIZE_MAX) {
            path_push_key(x->pb, (const uint8_t *)n->keys[dup].str, n->keys[dup].len);
            return sh_fail(x->err, SH_E_ENT_DUPLICATE_KEY, "XML entitlements key", (int64_t)dup,
                           x->off);
        }
        return SH_E_OK;
    }
    case PLIST_ARRAY: {
        n->type = SH_ENT_ARRAY;
        if (depth > SH_MAX_PLIST_DEPTH)
            return sh_fail(x->err, SH_E_PLIST_TOO_DEEP, "XML entitlements array", -1, x->off);
        size_t count = plist_array_get_size(p);
        if (count == 0)
            return SH_E_OK;
        if (!alloc_children(x->alloc, n, count, false))
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements array", -1, x->off);
        plist_array_iter it = NULL;
        plist_array_new_iter(p, &it);
        if (!it)
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements array", -1, x->off);
        for (size_t i = 0; i < count && !e; i++) {
            plist_t val = NULL;
            plist_array_next_item(p, it, &val);
            if (!val) {
                e = sh_fail(x->err, SH_E_PLIST_LIBPLIST_FAILED, "XML entitlements array",
                            (int64_t)i, x->off);
                break;
            }
            size_t mark = path_push_index(x->pb, i);
            e = xml_node(x, val, depth + 1, &n->items[i]);
            if (!e)
                path_pop(x->pb, mark);
        }
        free(it); /* libplist's allocation */
        return e;
    }
    case PLIST_STRING: {
        n->type = SH_ENT_STRING;
        uint64_t len = 0;
        const char *s = plist_get_string_ptr(p, &len);
        if (!s) {
            s = "";
            len = 0;
        }
        n->len = (size_t)len;
        return xml_text_copy(x, s, n->len, "XML entitlements string", &n->bytes);
    }
    case PLIST_BOOLEAN: {
        uint8_t b = 0;
        plist_get_bool_val(p, &b);
        n->type = SH_ENT_BOOL;
        n->boolean = b != 0;
        return SH_E_OK;
    }
    case PLIST_UINT: {
        uint64_t u = 0;
        plist_get_uint_val(p, &u);
        n->type = SH_ENT_INT;
        memcpy(&n->integer, &u, sizeof u); /* the guard refused values above INT64_MAX */
        return SH_E_OK;
    }
    case PLIST_REAL:
        n->type = SH_ENT_REAL;
        plist_get_real_val(p, &n->real);
        return SH_E_OK;
    case PLIST_DATE: {
        int32_t sec = 0, usec = 0;
        plist_get_date_val(p, &sec, &usec);
        n->type = SH_ENT_DATE;
        n->real = (double)sec + (sec < 0 ? -(double)usec : (double)usec) / 1e6;
        return SH_E_OK;
    }
    case PLIST_DATA: {
        uint64_t len = 0;
        const char *d = plist_get_data_ptr(p, &len);
        n->type = SH_ENT_DATA;
        n->len = (size_t)len;
        sh_cursor v = sh_cursor_make((const uint8_t *)d, d ? n->len : 0);
        n->len = sh_cursor_len(&v);
        if (!(n->bytes = copy_view(x->alloc, v)))
            return sh_fail(x->err, SH_E_NO_MEMORY, "XML entitlements data", -1, x->off);
        return SH_E_OK;
    }
    default:
        return sh_fail_value(x->err, SH_E_ENT_UNSUPPORTED_TYPE, "XML entitlements value", -1,
                             x->off, (uint64_t)plist_get_node_type(p));
    }
}

sh_err sh_entitlements_parse_xml(const sh_cursor *xml, const sh_allocator *alloc,
                                 sh_entitlements *out, sh_ent_path *path, sh_error *err)
{
    sh_ent_path local;
    pathbuf pb;
    start(out, alloc, path, &local, &pb);
    uint64_t off = sh_cursor_pos(xml);
    if (sh_plist_detect(xml) == SH_PLIST_FORMAT_BINARY)
        return finish(out, sh_fail(err, SH_E_ENT_NOT_XML, "XML entitlements", -1, off), &pb);
    sh_plist_stats st;
    plist_t p = NULL;
    sh_err e = sh_plist_parse(xml, alloc, &p, &st, err);
    if (e)
        return finish(out, e, &pb);
    if (plist_get_node_type(p) != PLIST_DICT) {
        e = sh_fail_value(err, SH_E_ENT_ROOT_NOT_DICT, "XML entitlements", -1, off,
                          (uint64_t)plist_get_node_type(p));
    } else if (st.has_big_uint) {
        e = sh_fail(err, SH_E_ENT_INT_RANGE, "XML entitlements <integer>", -1, st.big_uint_offset);
    } else {
        xml_ctx x = {.alloc = alloc, .err = err, .pb = &pb, .off = off};
        e = xml_node(&x, p, 1, &out->root);
        out->nodes = x.nodes;
        out->form = SH_ENT_FORM_XML;
    }
    plist_free(p);
    return finish(out, e, &pb);
}

sh_err sh_entitlements_parse_xml_blob(const sh_cursor *blob, const sh_allocator *alloc,
                                      sh_entitlements *out, sh_ent_path *path, sh_error *err)
{
    sh_cursor payload;
    sh_err e = blob_payload(blob, SH_MAGIC_EMBEDDED_ENTITLEMENTS, &payload, err);
    if (e)
        return blob_header_failed(e, alloc, out, path);
    return sh_entitlements_parse_xml(&payload, alloc, out, path, err);
}

/* ------------------------------------------------------------------------------------------ */
/* DER encoding (Apple's current form)                                                        */

typedef struct enc_ctx {
    sh_error *err;
    pathbuf *pb;
    uint32_t items;
} enc_ctx;

static sh_err enc_text_ok(enc_ctx *c, const void *p, size_t n, const char *where, uint64_t off)
{
    if (n && !p)
        return sh_fail(c->err, SH_E_ENT_DER_UNENCODABLE, "DER encoder (malformed node)", -1, off);
    sh_cursor v = sh_cursor_make(p, n);
    v.base = off;
    uint64_t bad;
    if (!sh_utf8_valid(&v, &bad))
        return sh_fail(c->err, SH_E_ENT_BAD_UTF8, where, -1, off);
    if (n && memchr(p, 0, n))
        return sh_fail(c->err, SH_E_ENT_NUL_IN_STRING, where, -1, off);
    return SH_E_OK;
}

/* Everything the encoder needs to be true, checked before any byte is written. */
static sh_err enc_check(enc_ctx *c, const sh_ent_node *n, uint32_t depth)
{
    if (c->items >= SH_MAX_DER_ITEMS)
        return sh_fail(c->err, SH_E_ENT_DER_TOO_MANY_ITEMS, "DER encoder", -1, n->offset);
    c->items++;
    sh_err e;
    switch (n->type) {
    case SH_ENT_STRING:
        return enc_text_ok(c, n->bytes, n->len, "DER encoder string", n->offset);
    case SH_ENT_BOOL:
    case SH_ENT_INT:
        return SH_E_OK;
    case SH_ENT_ARRAY:
    case SH_ENT_DICT:
        if (depth + 1 > SH_MAX_DER_DEPTH)
            return sh_fail(c->err, SH_E_ENT_DER_TOO_DEEP, "DER encoder", -1, n->offset);
        if (n->count && (!n->items || (n->type == SH_ENT_DICT && !n->keys)))
            return sh_fail(c->err, SH_E_ENT_DER_UNENCODABLE, "DER encoder (malformed node)",
                           (int64_t)n->type, n->offset);
        for (size_t i = 0; i < n->count; i++) {
            size_t mark;
            if (n->type == SH_ENT_DICT) {
                const sh_ent_key *k = &n->keys[i];
                mark = path_push_key(c->pb, (const uint8_t *)k->str, k->len);
                if ((e = enc_text_ok(c, k->str, k->len, "DER encoder key", k->offset)) != SH_E_OK)
                    return e;
                if (i > 0) {
                    int cmp = key_cmp(&n->keys[i - 1], k);
                    if (cmp == 0)
                        return sh_fail(c->err, SH_E_ENT_DUPLICATE_KEY, "DER encoder key",
                                       (int64_t)i, k->offset);
                    if (cmp > 0)
                        return sh_fail(c->err, SH_E_ENT_DER_KEY_ORDER, "DER encoder key",
                                       (int64_t)i, k->offset);
                }
            } else {
                mark = path_push_index(c->pb, i);
            }
            if ((e = enc_check(c, &n->items[i], depth + 1)) != SH_E_OK)
                return e;
            path_pop(c->pb, mark);
        }
        return SH_E_OK;
    default:
        return sh_fail(c->err, SH_E_ENT_DER_UNENCODABLE, "DER encoder", (int64_t)n->type,
                       n->offset);
    }
}

static uint64_t len_size(uint64_t len)
{
    uint64_t n = 1;
    if (len >= 0x80)
        for (uint64_t v = len; v; v >>= 8)
            n++;
    return n;
}

static uint64_t tlv_size(uint64_t content) { return 1 + len_size(content) + content; }

static size_t int_size(int64_t v)
{
    size_t n = 1;
    while (n < 8) {
        int64_t lim = (int64_t)1 << (8 * n - 1);
        if (v >= -lim && v < lim)
            break;
        n++;
    }
    return n;
}

static uint64_t content_size(const sh_ent_node *n)
{
    uint64_t s = 0;
    switch (n->type) {
    case SH_ENT_STRING: return n->len;
    case SH_ENT_BOOL: return 1;
    case SH_ENT_INT: return int_size(n->integer);
    case SH_ENT_ARRAY:
        for (size_t i = 0; i < n->count; i++)
            s += tlv_size(content_size(&n->items[i]));
        return s;
    case SH_ENT_DICT:
        for (size_t i = 0; i < n->count; i++)
            s += tlv_size(tlv_size(n->keys[i].len) + tlv_size(content_size(&n->items[i])));
        return s;
    default: return 0;
    }
}

typedef struct writer {
    uint8_t *p;
    size_t cap, len;
} writer;

static void put(writer *w, const void *src, size_t n)
{
    if (n > w->cap - w->len) /* cannot happen: the size was computed from the same tree */
        n = w->cap - w->len;
    if (n)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u8(writer *w, uint8_t b) { put(w, &b, 1); }

static void put_header(writer *w, uint8_t tag, uint64_t len)
{
    put_u8(w, tag);
    if (len < 0x80) {
        put_u8(w, (uint8_t)len);
        return;
    }
    uint8_t n = (uint8_t)(len_size(len) - 1);
    put_u8(w, (uint8_t)(0x80 | n));
    for (int i = n - 1; i >= 0; i--)
        put_u8(w, (uint8_t)(len >> (8 * i)));
}

static void put_node(writer *w, const sh_ent_node *n)
{
    switch (n->type) {
    case SH_ENT_STRING:
        put_header(w, DER_TAG_UTF8STRING, n->len);
        put(w, n->bytes, n->len);
        break;
    case SH_ENT_BOOL:
        put_header(w, DER_TAG_BOOLEAN, 1);
        put_u8(w, n->boolean ? 0xFF : 0x00);
        break;
    case SH_ENT_INT: {
        size_t k = int_size(n->integer);
        uint64_t u;
        memcpy(&u, &n->integer, sizeof u);
        put_header(w, DER_TAG_INTEGER, k);
        for (size_t i = k; i-- > 0;)
            put_u8(w, (uint8_t)(u >> (8 * i)));
        break;
    }
    case SH_ENT_ARRAY:
        put_header(w, DER_TAG_SEQUENCE, content_size(n));
        for (size_t i = 0; i < n->count; i++)
            put_node(w, &n->items[i]);
        break;
    case SH_ENT_DICT:
        put_header(w, DER_TAG_CTX16, content_size(n));
        for (size_t i = 0; i < n->count; i++) {
            const sh_ent_key *k = &n->keys[i];
            put_header(w, DER_TAG_SEQUENCE,
                       tlv_size(k->len) + tlv_size(content_size(&n->items[i])));
            put_header(w, DER_TAG_UTF8STRING, k->len);
            put(w, k->str, k->len);
            put_node(w, &n->items[i]);
        }
        break;
    default:
        break;
    }
}

static sh_err encode(const sh_ent_node *dict, const sh_allocator *alloc, bool blob, uint8_t **out,
                     size_t *out_len, sh_ent_path *path, sh_error *err)
{
    sh_ent_path local;
    pathbuf pb = {path ? path : &local, 0};
    pb.p->text[0] = 0;
    *out = NULL;
    *out_len = 0;
    if (dict->type != SH_ENT_DICT)
        return sh_fail_value(err, SH_E_ENT_ROOT_NOT_DICT, "DER encoder", -1, dict->offset,
                             dict->type);
    enc_ctx c = {.err = err, .pb = &pb};
    sh_err e = enc_check(&c, dict, 0);
    if (e)
        return e;
    /* 70 len { 02 01 01, B0 len entries } */
    uint64_t inner = 3 + tlv_size(content_size(dict));
    uint64_t total = tlv_size(inner) + (blob ? 8 : 0);
    if (total > SIZE_MAX || total > UINT32_MAX)
        return sh_fail_value(err, SH_E_ENT_DER_UNENCODABLE, "DER encoder (output too large)", -1,
                             dict->offset, total);
    writer w = {sh_calloc(alloc, (size_t)total, 1), (size_t)total, 0};
    if (!w.p)
        return sh_fail(err, SH_E_NO_MEMORY, "DER encoder", -1, dict->offset);
    if (blob) {
        const uint8_t hdr[8] = {0xfa, 0xde, 0x71, 0x72, (uint8_t)(total >> 24),
                                (uint8_t)(total >> 16), (uint8_t)(total >> 8), (uint8_t)total};
        put(&w, hdr, 8);
    }
    put_header(&w, DER_TAG_APP16, inner);
    put_header(&w, DER_TAG_INTEGER, 1);
    put_u8(&w, 1);
    put_node(&w, dict);
    *out = w.p;
    *out_len = w.len;
    return SH_E_OK;
}

sh_err sh_entitlements_encode_der(const sh_ent_node *dict, const sh_allocator *alloc, uint8_t **out,
                                  size_t *out_len, sh_ent_path *path, sh_error *err)
{
    return encode(dict, alloc, false, out, out_len, path, err);
}

sh_err sh_entitlements_encode_der_blob(const sh_ent_node *dict, const sh_allocator *alloc,
                                       uint8_t **out, size_t *out_len, sh_ent_path *path,
                                       sh_error *err)
{
    return encode(dict, alloc, true, out, out_len, path, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Comparison                                                                                 */

static bool same_real(double a, double b)
{
    if (isnan(a) && isnan(b))
        return true;
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool diff_at(sh_ent_diff *d, sh_ent_diff_kind k, const sh_ent_node *a, const sh_ent_node *b)
{
    d->kind = k;
    d->a = a;
    d->b = b;
    return false;
}

static bool cmp_node(const sh_ent_node *a, const sh_ent_node *b, pathbuf *pb, sh_ent_diff *d)
{
    if (a->type != b->type)
        return diff_at(d, SH_ENT_DIFF_TYPE, a, b);
    switch (a->type) {
    case SH_ENT_DICT: {
        size_t i = 0, j = 0;
        while (i < a->count || j < b->count) {
            int c = i >= a->count ? 1 : j >= b->count ? -1 : key_cmp(&a->keys[i], &b->keys[j]);
            if (c < 0) {
                path_push_key(pb, (const uint8_t *)a->keys[i].str, a->keys[i].len);
                return diff_at(d, SH_ENT_DIFF_ONLY_IN_A, &a->items[i], NULL);
            }
            if (c > 0) {
                path_push_key(pb, (const uint8_t *)b->keys[j].str, b->keys[j].len);
                return diff_at(d, SH_ENT_DIFF_ONLY_IN_B, NULL, &b->items[j]);
            }
            size_t mark = path_push_key(pb, (const uint8_t *)a->keys[i].str, a->keys[i].len);
            if (!cmp_node(&a->items[i], &b->items[j], pb, d))
                return false;
            path_pop(pb, mark);
            i++, j++;
        }
        return true;
    }
    case SH_ENT_ARRAY: {
        size_t n = a->count < b->count ? a->count : b->count;
        for (size_t i = 0; i < n; i++) {
            size_t mark = path_push_index(pb, i);
            if (!cmp_node(&a->items[i], &b->items[i], pb, d))
                return false;
            path_pop(pb, mark);
        }
        return a->count == b->count ? true : diff_at(d, SH_ENT_DIFF_LENGTH, a, b);
    }
    case SH_ENT_STRING:
    case SH_ENT_DATA:
        return (a->len == b->len && (a->len == 0 || !memcmp(a->bytes, b->bytes, a->len)))
                   ? true
                   : diff_at(d, SH_ENT_DIFF_VALUE, a, b);
    case SH_ENT_BOOL: return a->boolean == b->boolean ? true : diff_at(d, SH_ENT_DIFF_VALUE, a, b);
    case SH_ENT_INT: return a->integer == b->integer ? true : diff_at(d, SH_ENT_DIFF_VALUE, a, b);
    case SH_ENT_REAL:
    case SH_ENT_DATE:
        return same_real(a->real, b->real) ? true : diff_at(d, SH_ENT_DIFF_VALUE, a, b);
    default: return true;
    }
}

sh_err sh_entitlements_compare(const sh_ent_node *a, const sh_ent_node *b, sh_ent_diff *diff,
                               sh_error *err)
{
    sh_ent_diff local;
    sh_ent_diff *d = diff ? diff : &local;
    memset(d, 0, sizeof *d);
    pathbuf pb = {&d->path, 0};
    if (cmp_node(a, b, &pb, d))
        return SH_E_OK;
    const sh_ent_node *at = d->b ? d->b : d->a;
    return sh_fail_value(err, SH_E_ENT_MISMATCH, "entitlements", (int64_t)d->kind,
                         at ? at->offset : 0, (uint64_t)d->kind);
}

static void describe(const sh_ent_node *n, char *buf, size_t size)
{
    if (!n) {
        snprintf(buf, size, "absent");
        return;
    }
    switch (n->type) {
    case SH_ENT_DICT: snprintf(buf, size, "dict of %zu keys", n->count); break;
    case SH_ENT_ARRAY: snprintf(buf, size, "array of %zu items", n->count); break;
    case SH_ENT_STRING: {
        char s[48];
        size_t k = 0;
        for (size_t i = 0; i < n->len && k + 5 < sizeof s; i++) {
            uint8_t c = n->bytes[i];
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                s[k++] = (char)c;
            } else {
                snprintf(s + k, sizeof s - k, "\\x%02x", c);
                k += 4;
            }
        }
        s[k] = 0;
        snprintf(buf, size, "string \"%s%s\"", s, k + 5 >= sizeof s ? "..." : "");
        break;
    }
    case SH_ENT_BOOL: snprintf(buf, size, "bool %s", n->boolean ? "true" : "false"); break;
    case SH_ENT_INT: snprintf(buf, size, "integer %" PRId64, n->integer); break;
    case SH_ENT_DATA: snprintf(buf, size, "data of %zu bytes", n->len); break;
    case SH_ENT_DATE: snprintf(buf, size, "date %.6f", n->real); break;
    case SH_ENT_REAL: snprintf(buf, size, "real %.17g", n->real); break;
    default: snprintf(buf, size, "unknown"); break;
    }
}

int sh_ent_diff_format(const sh_ent_diff *diff, const char *a_name, const char *b_name, char *buf,
                       size_t size)
{
    const char *path = diff->path.text[0] ? diff->path.text : "(top level)";
    char da[96], db[96];
    describe(diff->a, da, sizeof da);
    describe(diff->b, db, sizeof db);
    if (diff->kind == SH_ENT_DIFF_NONE)
        return snprintf(buf, size, "%s and %s entitlements are equal", a_name, b_name);
    return snprintf(buf, size, "%s: %s in %s, %s in %s", path, da, a_name, db, b_name);
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups and names                                                                          */

const sh_ent_node *sh_ent_dict_get(const sh_ent_node *dict, const char *key)
{
    if (!dict || dict->type != SH_ENT_DICT || !key)
        return NULL;
    size_t klen = strlen(key), lo = 0, hi = dict->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(dict->keys[mid].str, dict->keys[mid].len, key, klen);
        if (c == 0)
            return &dict->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool sh_ent_get_bool(const sh_ent_node *dict, const char *key)
{
    const sh_ent_node *n = sh_ent_dict_get(dict, key);
    return n && n->type == SH_ENT_BOOL && n->boolean;
}

const char *sh_ent_get_string(const sh_ent_node *dict, const char *key)
{
    const sh_ent_node *n = sh_ent_dict_get(dict, key);
    return n && n->type == SH_ENT_STRING ? (const char *)n->bytes : NULL;
}

const char *sh_ent_type_name(sh_ent_type t)
{
    switch (t) {
    case SH_ENT_DICT: return "dict";
    case SH_ENT_ARRAY: return "array";
    case SH_ENT_STRING: return "string";
    case SH_ENT_BOOL: return "bool";
    case SH_ENT_INT: return "integer";
    case SH_ENT_DATA: return "data";
    case SH_ENT_DATE: return "date";
    case SH_ENT_REAL: return "real";
    default: return "unknown";
    }
}

const char *sh_ent_form_name(sh_ent_form f)
{
    switch (f) {
    case SH_ENT_FORM_XML: return "XML";
    case SH_ENT_FORM_DER: return "DER";
    case SH_ENT_FORM_DER_LEGACY: return "DER (legacy SET)";
    default: return "none";
    }
}
