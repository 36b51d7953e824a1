/* _CodeSignature/CodeResources: envelope and file entries (coderesources.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coderesources_internal.h"
#include "plist_guard.h"
#include "res_plist.h"

/* ---- where ---- */

typedef struct where_buf {
    char *t;
    size_t cap, at; /* cap leaves room for "..." and the NUL */
    bool cut;
} where_buf;

static void put_escaped(where_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && !b->cut; i++) {
        unsigned char ch = (unsigned char)s[i];
        size_t need = ch >= 0x20 && ch < 0x7f ? 1 : 4;
        if (b->at + need > b->cap) {
            b->cut = true;
        } else if (need == 1) {
            b->t[b->at++] = (char)ch;
        } else {
            snprintf(b->t + b->at, 5, "\\x%02x", ch);
            b->at += 4;
        }
    }
}

void sh_res_set_where(sh_res_where *where, const char *part, const char *key, size_t key_len,
                      const char *field)
{
    if (where == NULL)
        return;
    where_buf b = {where->text, sizeof where->text - 4, 0, false};
    put_escaped(&b, part, strlen(part));
    if (key != NULL) {
        put_escaped(&b, "/", 1);
        put_escaped(&b, key, key_len);
    }
    if (field != NULL) {
        put_escaped(&b, "/", 1);
        put_escaped(&b, field, strlen(field));
    }
    if (b.cut) {
        memcpy(b.t + b.at, "...", 3);
        b.at += 3;
    }
    b.t[b.at] = '\0';
}

/* ---- entries ---- */

typedef struct entry_ctx {
    const char *part; /* "files" or "files2" */
    const char *key;  /* the path */
    size_t key_len;
    int64_t index;
    const sh_allocator *alloc;
    sh_res_where *where;
    sh_error *err;
} entry_ctx;

static sh_err entry_fail(entry_ctx *c, sh_err code, const char *field, uint64_t value)
{
    sh_res_set_where(c->where, c->part, c->key, c->key_len, field);
    return sh_fail_value(c->err, code, c->part, c->index, 0, value);
}

static sh_err get_digest(entry_ctx *c, plist_t v, const char *field, uint8_t *dst, size_t n)
{
    if (plist_get_node_type(v) != PLIST_DATA)
        return entry_fail(c, SH_E_RES_KEY_TYPE, field, (uint64_t)plist_get_node_type(v));
    uint64_t len = 0;
    const char *p = plist_get_data_ptr(v, &len);
    if (p == NULL || len != n)
        return entry_fail(c, SH_E_RES_HASH_LENGTH, field, len);
    memcpy(dst, p, n);
    return SH_E_OK;
}

static sh_err get_text(entry_ctx *c, plist_t v, const char *field, size_t max, char **out)
{
    switch (sh_pv_string(v, max, false, c->alloc, out, NULL)) {
    case SH_PV_OK:
        return SH_E_OK;
    case SH_PV_NOT_STRING:
        return entry_fail(c, SH_E_RES_KEY_TYPE, field, (uint64_t)plist_get_node_type(v));
    case SH_PV_BAD:
        return entry_fail(c, SH_E_RES_BAD_STRING, field, 0);
    default:
        return entry_fail(c, SH_E_NO_MEMORY, field, 0);
    }
}

static sh_err get_flag(entry_ctx *c, plist_t v, const char *field, bool *out)
{
    if (!sh_pv_bool(v, out))
        return entry_fail(c, SH_E_RES_KEY_TYPE, field, (uint64_t)plist_get_node_type(v));
    return SH_E_OK;
}

static sh_err entry_fields(entry_ctx *c, plist_t d, sh_res_file *f)
{
    plist_t v;
    sh_err e = SH_E_OK;
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "hash")) != NULL) {
        e = get_digest(c, v, "hash", f->hash, SH_RES_SHA1_LEN);
        f->has_hash = e == SH_E_OK;
    }
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "hash2")) != NULL) {
        e = get_digest(c, v, "hash2", f->hash2, SH_RES_SHA256_LEN);
        f->has_hash2 = e == SH_E_OK;
    }
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "optional")) != NULL)
        e = get_flag(c, v, "optional", &f->optional);
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "symlink")) != NULL)
        e = get_text(c, v, "symlink", SH_MAX_RES_PATH_LEN, &f->symlink);
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "cdhash")) != NULL) {
        e = get_digest(c, v, "cdhash", f->cdhash, SH_RES_SHA1_LEN);
        f->has_cdhash = e == SH_E_OK;
    }
    if (e == SH_E_OK && (v = plist_dict_get_item(d, "requirement")) != NULL)
        e = get_text(c, v, "requirement", SH_MAX_RES_REQUIREMENT_LEN, &f->requirement);
    f->nested = f->has_cdhash || f->requirement;
    return e;
}

static sh_err entry_kind(entry_ctx *c, const sh_res_file *f, bool v1)
{
    bool hashed = f->has_hash || f->has_hash2;
    if (v1 ? !f->has_hash : !(hashed || f->symlink || f->nested))
        return entry_fail(c, SH_E_RES_ENTRY_EMPTY, NULL, 0);
    if ((f->nested && (hashed || f->symlink)) || (f->symlink && hashed))
        return entry_fail(c, SH_E_RES_ENTRY_CONFLICT, NULL, 0);
    return SH_E_OK;
}

static bool clean_path(const char *p, size_t n)
{
    if (n == 0 || p[0] == '/' || p[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 0 || (len == 1 && p[i] == '.') || (len == 2 && p[i] == '.' && p[i + 1] == '.'))
            return false;
        i = j + 1;
    }
    return true;
}

static sh_err parse_entry(entry_ctx *c, plist_t v, bool v1, sh_res_file *f)
{
    sh_pv_status st = sh_pv_bytes(c->key, c->key_len, SH_MAX_RES_PATH_LEN, false, c->alloc,
                                  &f->path);
    if (st == SH_PV_NO_MEMORY)
        return entry_fail(c, SH_E_NO_MEMORY, NULL, 0);
    if (st != SH_PV_OK || !clean_path(c->key, c->key_len))
        return entry_fail(c, SH_E_RES_BAD_PATH, NULL, c->key_len);
    f->path_len = c->key_len;
    plist_type t = plist_get_node_type(v);
    if (t == PLIST_DATA) {
        sh_err e = get_digest(c, v, "hash", f->hash, SH_RES_SHA1_LEN);
        f->has_hash = e == SH_E_OK;
        return e;
    }
    if (t != PLIST_DICT)
        return entry_fail(c, SH_E_RES_KEY_TYPE, NULL, (uint64_t)t);
    sh_err e = entry_fields(c, v, f);
    return e == SH_E_OK ? entry_kind(c, f, v1) : e;
}

static void file_free(const sh_allocator *a, sh_res_file *f)
{
    sh_free(a, f->path);
    sh_free(a, f->symlink);
    sh_free(a, f->requirement);
}

static int file_cmp(const void *a, const void *b)
{
    const sh_res_file *x = a, *y = b;
    size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
    int r = memcmp(x->path, y->path, n);
    return r ? r : (x->path_len > y->path_len) - (x->path_len < y->path_len);
}

static sh_err sort_files(sh_res_files *fs, const char *part, sh_res_where *where, sh_error *err)
{
    if (fs->count > 1)
        qsort(fs->items, fs->count, sizeof *fs->items, file_cmp);
    for (size_t i = 1; i < fs->count; i++) {
        if (file_cmp(&fs->items[i - 1], &fs->items[i]) == 0) {
            sh_res_set_where(where, part, fs->items[i].path, fs->items[i].path_len, NULL);
            return sh_fail(err, SH_E_RES_DUPLICATE_PATH, part, (int64_t)i, 0);
        }
    }
    return SH_E_OK;
}

static sh_err parse_files(plist_t dict, const char *part, const sh_allocator *alloc,
                          sh_res_files *out, sh_res_where *where, sh_error *err)
{
    out->present = true;
    if (plist_get_node_type(dict) != PLIST_DICT) {
        sh_res_set_where(where, part, NULL, 0, NULL);
        return sh_fail_value(err, SH_E_RES_KEY_TYPE, part, -1, 0,
                             (uint64_t)plist_get_node_type(dict));
    }
    size_t n = plist_dict_get_size(dict);
    if (n > SH_MAX_RES_ENTRIES) {
        sh_res_set_where(where, part, NULL, 0, NULL);
        return sh_fail_value(err, SH_E_RES_TOO_MANY_ENTRIES, part, -1, 0, n);
    }
    out->items = sh_calloc(alloc, n ? n : 1, sizeof *out->items);
    if (out->items == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, part, -1, 0);
    plist_dict_iter it = NULL;
    plist_dict_new_iter(dict, &it);
    if (it == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, part, -1, 0);
    sh_err e = SH_E_OK;
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        char *key = NULL;
        plist_t v = NULL;
        plist_dict_next_item(dict, it, &key, &v);
        if (key == NULL || v == NULL) {
            free(key);
            e = sh_fail(err, SH_E_PLIST_LIBPLIST_FAILED, part, (int64_t)i, 0);
            break;
        }
        entry_ctx c = {part, key, strlen(key), (int64_t)i, alloc, where, err};
        e = parse_entry(&c, v, strcmp(part, "files") == 0, &out->items[i]);
        out->count = i + 1; /* freed by the caller also when half filled */
        free(key);
    }
    free(it);
    return e == SH_E_OK ? sort_files(out, part, where, err) : e;
}

/* ---- top level ---- */

static sh_err parse_root(plist_t root, sh_coderesources *out, sh_res_where *where, sh_error *err)
{
    if (plist_get_node_type(root) != PLIST_DICT) {
        sh_res_set_where(where, "CodeResources", NULL, 0, NULL);
        return sh_fail_value(err, SH_E_RES_ROOT_NOT_DICT, "CodeResources", -1, 0,
                             (uint64_t)plist_get_node_type(root));
    }
    sh_err e = SH_E_OK;
    plist_t v;
    if ((v = plist_dict_get_item(root, "files")) != NULL)
        e = parse_files(v, "files", out->alloc, &out->files, where, err);
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "files2")) != NULL)
        e = parse_files(v, "files2", out->alloc, &out->files2, where, err);
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "rules")) != NULL)
        e = sh_res_parse_rules(v, "rules", out->alloc, &out->rules, where, err);
    if (e == SH_E_OK && (v = plist_dict_get_item(root, "rules2")) != NULL)
        e = sh_res_parse_rules(v, "rules2", out->alloc, &out->rules2, where, err);
    return e;
}

sh_err sh_coderesources_parse(const sh_cursor *data, const sh_allocator *alloc,
                              sh_coderesources *out, sh_res_where *where, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    if (where != NULL)
        where->text[0] = '\0';
    plist_t root = NULL;
    sh_err e = sh_plist_parse(data, alloc, &root, NULL, err);
    if (e != SH_E_OK)
        return e;
    e = parse_root(root, out, where, err);
    plist_free(root);
    if (e != SH_E_OK)
        sh_coderesources_free(out);
    return e;
}

static void files_free(const sh_allocator *a, sh_res_files *fs)
{
    for (size_t i = 0; i < fs->count; i++)
        file_free(a, &fs->items[i]);
    sh_free(a, fs->items);
    memset(fs, 0, sizeof *fs);
}

void sh_coderesources_free(sh_coderesources *cr)
{
    if (cr == NULL)
        return;
    const sh_allocator *a = cr->alloc;
    files_free(a, &cr->files);
    files_free(a, &cr->files2);
    sh_res_rules_free(a, &cr->rules);
    sh_res_rules_free(a, &cr->rules2);
    cr->alloc = a;
}

const sh_res_file *sh_res_find(const sh_res_files *files, const char *path)
{
    if (files == NULL || path == NULL || files->count == 0)
        return NULL;
    sh_res_file key = {0};
    key.path = (char *)(uintptr_t)path; /* only read by file_cmp */
    key.path_len = strlen(path);
    return bsearch(&key, files->items, files->count, sizeof *files->items, file_cmp);
}
