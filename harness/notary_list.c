#include "notary_list.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case refused: the format is the lower-case form codesign prints */
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

static sh_err line_error(sh_error *err, sh_err code, size_t line_no, const sh_cursor *line,
                         size_t col)
{
    return sh_fail_value(err, code, "notarised-cdhash list", (int64_t)line_no,
                         sh_cursor_pos(line) + col, col + 1);
}

/* One line without its terminator: blank, comment, or cdhash [blanks] [# comment].
 * *has_hash says whether hash was filled. */
static sh_err parse_line(const sh_cursor *line, size_t line_no, uint8_t hash[SH_CDHASH_LEN],
                         bool *has_hash, sh_error *err)
{
    const uint8_t *p = line->p;
    size_t n = sh_cursor_len(line), i = 0;
    *has_hash = false;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    while (i < n && is_blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return SH_E_OK;
    if (n - i < 2 * SH_CDHASH_LEN)
        return line_error(err, SH_E_NOTARY_LIST_BAD_CDHASH, line_no, line, n);
    for (size_t k = 0; k < SH_CDHASH_LEN; k++) {
        int hi = hex_value(p[i + 2 * k]), lo = hex_value(p[i + 2 * k + 1]);
        if (hi < 0)
            return line_error(err, SH_E_NOTARY_LIST_BAD_CDHASH, line_no, line, i + 2 * k);
        if (lo < 0)
            return line_error(err, SH_E_NOTARY_LIST_BAD_CDHASH, line_no, line, i + 2 * k + 1);
        hash[k] = (uint8_t)(hi << 4 | lo);
    }
    i += 2 * SH_CDHASH_LEN;
    size_t after_hash = i;
    while (i < n && is_blank(p[i]))
        i++;
    /* a 41st hex digit right after the hash is a wrong-length hash, not a comment */
    if (i < n && (p[i] != '#' || i == after_hash))
        return line_error(err, SH_E_NOTARY_LIST_BAD_CDHASH, line_no, line, i);
    *has_hash = true;
    return SH_E_OK;
}

/* Walks every line; with out NULL only counts hashes. */
static sh_err walk(const uint8_t *data, size_t len, uint8_t (*out)[SH_CDHASH_LEN], size_t *count,
                   sh_error *err)
{
    sh_cursor c = sh_cursor_make(data, len);
    size_t line_no = 0;
    *count = 0;
    while (sh_cursor_len(&c) > 0) {
        line_no++;
        const uint8_t *nl = memchr(c.p, '\n', sh_cursor_len(&c));
        size_t line_len = nl ? (size_t)(nl - c.p) : sh_cursor_len(&c);
        sh_cursor line;
        if (!sh_cursor_take(&c, line_len, &line)) /* line_len <= the rest: cannot happen */
            break;
        if (nl)
            sh_cursor_skip(&c, 1);
        if (line_len > SH_MAX_NOTARY_LINE)
            return line_error(err, SH_E_NOTARY_LIST_LINE_TOO_LONG, line_no, &line, 0);
        const uint8_t *nul = memchr(line.p, 0, line_len);
        if (nul)
            return line_error(err, SH_E_NOTARY_LIST_NUL, line_no, &line, (size_t)(nul - line.p));
        uint8_t hash[SH_CDHASH_LEN];
        bool has_hash;
        sh_err e = parse_line(&line, line_no, hash, &has_hash, err);
        if (e != SH_E_OK)
            return e;
        if (!has_hash)
            continue;
        if (*count >= SH_MAX_NOTARY_CDHASHES)
            return line_error(err, SH_E_NOTARY_LIST_TOO_MANY, line_no, &line, 0);
        if (out)
            memcpy(out[*count], hash, SH_CDHASH_LEN);
        (*count)++;
    }
    return SH_E_OK;
}

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, SH_CDHASH_LEN); }

sh_err sh_notary_list_parse(const uint8_t *data, size_t len, const sh_allocator *alloc,
                            sh_notary_list *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    if (len > SH_MAX_NOTARY_LIST_SIZE)
        return sh_fail_value(err, SH_E_NOTARY_LIST_TOO_LARGE, "notarised-cdhash list", -1, 0, len);
    size_t count;
    sh_err e = walk(data, len, NULL, &count, err);
    if (e != SH_E_OK || count == 0)
        return e;
    uint8_t (*hashes)[SH_CDHASH_LEN] = sh_calloc(alloc, count, SH_CDHASH_LEN);
    if (!hashes)
        return sh_fail(err, SH_E_NO_MEMORY, "notarised-cdhash list", -1, 0);
    walk(data, len, hashes, &count, err); /* cannot fail: same bytes as the first pass */
    qsort(hashes, count, SH_CDHASH_LEN, cmp_hash);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || memcmp(hashes[unique - 1], hashes[i], SH_CDHASH_LEN) != 0)
            memmove(hashes[unique++], hashes[i], SH_CDHASH_LEN);
    out->cdhashes = hashes;
    out->count = unique;
    return SH_E_OK;
}

bool sh_notary_list_contains(const sh_notary_list *list, const uint8_t cdhash[SH_CDHASH_LEN])
{
    return list && list->count > 0 &&
           bsearch(cdhash, list->cdhashes, list->count, SH_CDHASH_LEN, cmp_hash) != NULL;
}

void sh_notary_list_free(sh_notary_list *list)
{
    sh_free(list->alloc, list->cdhashes);
    memset(list, 0, sizeof *list);
}
