/* Plist text in the styles real writers produce.  libplist writes one XML style; Xcode,
 * plutil, PlistBuddy, Python's plistlib, editors and people write others: no DOCTYPE or no XML
 * declaration, two-space or no indentation, CRLF line ends, comments, CDATA sections, entity and
 * character references, empty-element forms (<string/>, <dict/>), hexadecimal or signed
 * integers, base64 with line breaks, binary plists.  The verdict engine reads Info.plist,
 * CodeResources, the entitlements blob and profile contents through one guard and tokenizer
 * (parsers/plist_guard.c), which byte mutation of a 170 KB bundle rarely hits in the right
 * place; re-serialising a parsed plist in another style reaches those paths with a value that
 * is otherwise unchanged, so the checks behind the parser still run.  With `sloppy`, a few
 * mistakes of hand-edited files are made too (a byte order mark, a duplicated key, a leading
 * zero, "--" in a comment), which the guard must refuse. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_mutator_internal.h"
#include "plist_guard.h"

#define PT_MAX_DEPTH 64u /* deeper than SH_MAX_PLIST_DEPTH: a parsed plist never gets here */
#define CF_EPOCH_UNIX 978307200

typedef struct style {
    const char *indent; /* per level; "" none */
    const char *eol;    /* "\n", "\r\n", "" */
    unsigned comment_percent, cdata_percent, entity_percent;
    bool empty_forms;   /* <string/>, <dict/>, <array/> for empty values */
    bool hex_integers;
    bool sloppy;
} style;

typedef struct writer {
    sh_bytebuf *out;
    sh_fm_rng *rng;
    style st;
    bool ok;
} writer;

static void put(writer *w, const char *s)
{
    if (w->ok && !sh_bytebuf_append(w->out, s, strlen(s)))
        w->ok = false;
}

static void put_n(writer *w, const char *s, size_t n)
{
    if (w->ok && !sh_bytebuf_append(w->out, s, n))
        w->ok = false;
}

static void line(writer *w, unsigned depth)
{
    put(w, w->st.eol);
    for (unsigned i = 0; i < depth && w->st.eol[0]; i++)
        put(w, w->st.indent);
}

/* Text content: escaped as the predefined entities always, and sometimes as character
 * references or inside a CDATA section (when it holds no "]]>"). */
static void text(writer *w, const char *s, size_t n)
{
    if (n && sh_fm_rng_percent(w->rng, w->st.cdata_percent) && !strstr(s, "]]>")) {
        put(w, "<![CDATA[");
        put_n(w, s, n);
        put(w, "]]>");
        return;
    }
    bool refs = sh_fm_rng_percent(w->rng, w->st.entity_percent);
    char ref[16];
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '&': put(w, "&amp;"); break;
        case '<': put(w, "&lt;"); break;
        case '>': put(w, "&gt;"); break;
        case '"': put(w, refs ? "&quot;" : "\""); break;
        case '\'': put(w, refs ? "&apos;" : "'"); break;
        default:
            if (refs && ch < 0x80 && ch != '\r' && (i % 3 == 0)) {
                snprintf(ref, sizeof ref, (i % 2) ? "&#%u;" : "&#x%X;", ch);
                put(w, ref);
            } else {
                put_n(w, (const char *)&s[i], 1);
            }
            break;
        }
    }
}

static void maybe_comment(writer *w, unsigned depth)
{
    if (!sh_fm_rng_percent(w->rng, w->st.comment_percent))
        return;
    put(w, w->st.sloppy && sh_fm_rng_percent(w->rng, 10) ? "<!-- edited -- by hand -->"
                                                         : "<!-- generated -->");
    line(w, depth);
}

static void value(writer *w, plist_t node, unsigned depth);

static void scalar(writer *w, const char *tag, const char *content)
{
    put(w, "<");
    put(w, tag);
    put(w, ">");
    put(w, content);
    put(w, "</");
    put(w, tag);
    put(w, ">");
}

static void container(writer *w, plist_t node, unsigned depth, bool dict)
{
    uint32_t n = dict ? plist_dict_get_size(node) : plist_array_get_size(node);
    const char *tag = dict ? "dict" : "array";
    if (n == 0 && w->st.empty_forms) {
        put(w, dict ? "<dict/>" : "<array/>");
        return;
    }
    put(w, "<");
    put(w, tag);
    put(w, ">");
    if (dict) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(node, &it);
        bool duplicated = false;
        for (uint32_t i = 0; it && i < n && w->ok; i++) {
            char *key = NULL;
            plist_t item = NULL;
            plist_dict_next_item(node, it, &key, &item);
            if (!key || !item) {
                free(key);
                break;
            }
            line(w, depth + 1);
            maybe_comment(w, depth + 1);
            put(w, "<key>");
            text(w, key, strlen(key));
            put(w, "</key>");
            line(w, depth + 1);
            value(w, item, depth + 1);
            if (!duplicated && w->st.sloppy && sh_fm_rng_percent(w->rng, 5)) {
                /* a key written twice, as a merge of two edits leaves it */
                line(w, depth + 1);
                put(w, "<key>");
                text(w, key, strlen(key));
                put(w, "</key><true/>");
                duplicated = true;
            }
            free(key);
        }
        free(it);
    } else {
        for (uint32_t i = 0; i < n && w->ok; i++) {
            line(w, depth + 1);
            maybe_comment(w, depth + 1);
            value(w, plist_array_get_item(node, i), depth + 1);
        }
    }
    line(w, depth);
    put(w, "</");
    put(w, tag);
    put(w, ">");
}

static void base64(writer *w, const uint8_t *p, uint64_t n, unsigned depth)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[5] = {0};
    for (uint64_t i = 0; i < n && w->ok; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        quad[0] = alphabet[v >> 18 & 63];
        quad[1] = alphabet[v >> 12 & 63];
        quad[2] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        quad[3] = i + 2 < n ? alphabet[v & 63] : '=';
        put(w, quad);
        if (i % 48 == 45 && w->st.eol[0]) /* Apple breaks base64 lines at 68 columns */
            line(w, depth);
    }
}

static void value(writer *w, plist_t node, unsigned depth)
{
    char buf[64];
    if (depth > PT_MAX_DEPTH) {
        w->ok = false;
        return;
    }
    switch (plist_get_node_type(node)) {
    case PLIST_DICT: container(w, node, depth, true); break;
    case PLIST_ARRAY: container(w, node, depth, false); break;
    case PLIST_BOOLEAN: {
        uint8_t b = 0;
        plist_get_bool_val(node, &b);
        put(w, b ? "<true/>" : (w->st.empty_forms ? "<false />" : "<false/>"));
        break;
    }
    case PLIST_UINT: {
        uint64_t v = 0;
        plist_get_uint_val(node, &v);
        if (w->st.sloppy && sh_fm_rng_percent(w->rng, 5))
            snprintf(buf, sizeof buf, "0%llu", (unsigned long long)v); /* octal to libplist */
        else if (w->st.hex_integers)
            snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
        else
            snprintf(buf, sizeof buf, "%s%llu", sh_fm_rng_percent(w->rng, 10) ? "+" : "",
                     (unsigned long long)v);
        scalar(w, "integer", buf);
        break;
    }
    case PLIST_REAL: {
        double d = 0;
        plist_get_real_val(node, &d);
        snprintf(buf, sizeof buf, sh_fm_rng_percent(w->rng, 50) ? "%.17g" : "%e", d);
        scalar(w, "real", buf);
        break;
    }
    case PLIST_DATE: {
        int32_t sec = 0, usec = 0;
        plist_get_date_val(node, &sec, &usec);
        time_t t = (time_t)sec + CF_EPOCH_UNIX;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
            w->ok = false;
            break;
        }
        scalar(w, "date", buf);
        break;
    }
    case PLIST_DATA: {
        const char *p = NULL;
        uint64_t n = 0;
        p = plist_get_data_ptr(node, &n);
        put(w, "<data>");
        line(w, depth);
        base64(w, (const uint8_t *)p, p ? n : 0, depth);
        line(w, depth);
        put(w, "</data>");
        break;
    }
    case PLIST_STRING:
    case PLIST_KEY: {
        uint64_t n = 0;
        const char *s = plist_get_string_ptr(node, &n);
        if (!s || n == 0) {
            put(w, w->st.empty_forms ? "<string/>" : "<string></string>");
            break;
        }
        put(w, "<string>");
        text(w, s, (size_t)n);
        put(w, "</string>");
        break;
    }
    default: /* UID, NONE: not in XML plists */
        w->ok = false;
        break;
    }
}

bool sh_fm_plist_text(plist_t root, sh_fm_rng *rng, bool sloppy, sh_bytebuf *out)
{
    static const char *const indents[] = {"\t", "  ", "    ", ""};
    static const char *const eols[] = {"\n", "\n", "\r\n", ""};
    writer w = {out, rng, {0}, true};
    w.st.indent = indents[sh_fm_rng_below(rng, 4)];
    w.st.eol = eols[sh_fm_rng_below(rng, 4)];
    w.st.comment_percent = sh_fm_rng_percent(rng, 30) ? 15 : 0;
    w.st.cdata_percent = sh_fm_rng_percent(rng, 30) ? 30 : 0;
    w.st.entity_percent = sh_fm_rng_percent(rng, 30) ? 40 : 0;
    w.st.empty_forms = sh_fm_rng_percent(rng, 50);
    w.st.hex_integers = sh_fm_rng_percent(rng, 20);
    w.st.sloppy = sloppy;
    size_t start = out->len;
    if (sloppy && sh_fm_rng_percent(rng, 10))
        put(&w, "\xef\xbb\xbf"); /* a byte order mark, as Windows editors save */
    switch (sh_fm_rng_below(rng, 4)) {
    case 0: break; /* no declaration at all */
    case 1: put(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"); break;
    default: put(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"); break;
    }
    put(&w, w.st.eol);
    if (sh_fm_rng_percent(rng, 70)) {
        put(&w, "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">");
        put(&w, w.st.eol);
    }
    maybe_comment(&w, 0);
    put(&w, sh_fm_rng_percent(rng, 85) ? "<plist version=\"1.0\">" : "<plist>");
    line(&w, 0);
    value(&w, root, 0);
    line(&w, 0);
    put(&w, "</plist>");
    put(&w, w.st.eol);
    if (!w.ok)
        out->len = start;
    return w.ok;
}

bool sh_fm_plist_restyle(const uint8_t *data, size_t len, const sh_allocator *alloc,
                         sh_fm_rng *rng, bool sloppy, sh_bytebuf *out)
{
    sh_cursor c = sh_cursor_make(data, len);
    plist_t root = NULL;
    sh_error err;
    if (sh_plist_parse(&c, alloc, &root, NULL, &err) != SH_E_OK)
        return false;
    bool ok;
    if (sh_fm_rng_percent(rng, 20)) {
        /* a binary plist, as Xcode writes some and plutil -convert binary1 does */
        char *bin = NULL;
        uint32_t bin_len = 0;
        plist_to_bin(root, &bin, &bin_len);
        ok = bin && sh_bytebuf_append(out, bin, bin_len);
        plist_to_bin_free(bin);
    } else {
        ok = sh_fm_plist_text(root, rng, sloppy, out);
    }
    plist_free(root);
    return ok;
}

/* ---- the mistakes of hand-edited and foreign plists --------------------------------------- */

/* Inserts ins at byte offset at of b; false when memory runs out. */
static bool insert_at(sh_bytebuf *b, size_t at, const char *ins)
{
    size_t n = strlen(ins), old = b->len;
    if (at > old || !sh_bytebuf_append_zeros(b, n))
        return false;
    memmove(b->data + at + n, b->data + at, old - at);
    memcpy(b->data + at, ins, n);
    return true;
}

/* The offset just after the first occurrence of tag in b (NULL-free search), or SIZE_MAX. */
static size_t after(const sh_bytebuf *b, const char *tag)
{
    size_t n = strlen(tag);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, tag, n) == 0)
            return i + n;
    return SIZE_MAX;
}

/* One entry for the root dict: a value of a type or form the plist readers treat specially. */
static const char *const extra_entries[] = {
    "<key>SHReal</key><real>nan</real>",
    "<key>SHReal</key><real>-inf</real>",
    "<key>SHReal</key><real>1.5e308</real>",
    "<key>SHReal</key><real>-0.000001E-3</real>",
    "<key>SHReal</key><real>1e999</real>",
    "<key>SHDate</key><date>2024-06-01T12:00:00Z</date>",
    "<key>SHDate</key><date>2024-13-41T25:61:61Z</date>",
    "<key>SHData</key><data>AAEC/w==</data>",
    "<key>SHData</key><data>!!!</data>",
    "<key>SHData</key><data>AAE</data>",
    "<key>SHInt</key><integer>-9223372036854775808</integer>",
    "<key>SHInt</key><integer>18446744073709551616</integer>",
    "<key>SHInt</key><integer>0x</integer>",
    "<key>SHInt</key><integer>1 2</integer>",
    "<key>SHBool</key><true>yes</true>",
    "<key>SHText</key><string>&unknown;</string>",
    "<key>SHText</key><string>&#0;</string>",
    "<key>SHText</key><string>&#x110000;</string>",
    "<key>SHText</key><string>&#x1F600;&#65;&amp;&lt;</string>",
    "<key>SHText</key><string>\xff\xfe</string>",
    "<key>SHText</key><string><![CDATA[a]]>b<!-- c --></string>",
    "<key>SHText</key><string></strin>",
    "<key>SHText</key><string attr=\"1\">x</string>",
    "<key/><string>x</string>",
    "<key>SHNest</key><array><array><array><dict><key>a</key><dict/></dict></array></array></array>",
    "<key>SHUnknown</key><uid>1</uid>",
    "<key>SHText</key>",
};

/* Outside the root value: the declaration, DOCTYPE and what follows the root. */
static const char *const prolog_mistakes[] = {
    "<!DOCTYPE plist [ <!ENTITY x \"y\"> ]>",
    "<?php echo 1; ?>",
    "<!-- unterminated",
    "<![CDATA[",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
};

bool sh_fm_plist_damage(sh_bytebuf *b, sh_fm_rng *rng)
{
    if (b->len >= 8 && memcmp(b->data, "bplist00", 8) == 0) {
        /* the trailer's offset size, reference size, object count, top object, table offset */
        static const struct { uint8_t at, width; } fields[] = {{6, 1}, {7, 1}, {8, 8}, {16, 8},
                                                               {24, 8}};
        static const uint64_t values[] = {0, 1, 3, 8, 16, 0xff, 0xffffffffu};
        if (b->len <= 32 + 8)
            return false;
        size_t f = (size_t)sh_fm_rng_below(rng, sizeof fields / sizeof fields[0]);
        uint64_t v = values[sh_fm_rng_below(rng, sizeof values / sizeof values[0])];
        size_t width = fields[f].width, at = b->len - 32 + fields[f].at;
        if (sh_fm_rng_percent(rng, 30)) { /* or an object's marker byte */
            at = 8 + (size_t)sh_fm_rng_below(rng, b->len - 40);
            width = 1;
            v = sh_fm_rng_below(rng, 256);
        }
        for (size_t i = 0; i < width && at + i < b->len; i++)
            b->data[at + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
        return true;
    }
    if (sh_fm_rng_percent(rng, 80)) {
        size_t at = after(b, "<dict>");
        if (at == SIZE_MAX)
            return false;
        return insert_at(b, at, extra_entries[sh_fm_rng_below(rng, sizeof extra_entries /
                                                                     sizeof extra_entries[0])]);
    }
    const char *m = prolog_mistakes[sh_fm_rng_below(rng, sizeof prolog_mistakes /
                                                           sizeof prolog_mistakes[0])];
    size_t at = sh_fm_rng_percent(rng, 50) ? after(b, "</plist>") : after(b, "?>");
    return insert_at(b, at == SIZE_MAX ? 0 : at, m);
}
