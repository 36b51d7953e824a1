/* A bundle's main executable and the seal of signed code as CodeResources records nested code
 * (cdhash + designated requirement), read with the project's parsers. */
#include "bundle_signer_internal.h"

#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "macho.h"
#include "requirement.h"
#include "signature.h"
#include "signer_internal.h"

bool sh_bsign_join(const char *root, const char *rel, char *buf, size_t size)
{
    size_t limit = size < SH_BSIGN_PATH_SIZE ? size : SH_BSIGN_PATH_SIZE;
    int n = snprintf(buf, limit, "%s%sContents%s%s", root, root[0] ? "/" : "", rel ? "/" : "",
                     rel ? rel : "");
    return n > 0 && (size_t)n < limit;
}

static sh_sign_status error_fail(sh_sign_result *r, sh_sign_status st, const char *what,
                                 const sh_error *err)
{
    char msg[200];
    sh_error_format(err, msg, sizeof msg);
    return sh_sign_fail(r, st, "%s: %s", what, msg);
}

static const sh_bundle_entry *find_file(const sh_bundle *b, const char *path)
{
    const sh_bundle_entry *e = sh_bundle_find(b, path);
    return e && e->kind == SH_BUNDLE_FILE ? e : NULL;
}

sh_sign_status sh_bsign_find_main(const sh_bundle *b, const char *root, sh_bsign_main *m,
                                  sh_sign_result *r)
{
    memset(m, 0, sizeof *m);
    char path[SH_BSIGN_PATH_SIZE];
    if (!sh_bsign_join(root, "Info.plist", path, sizeof path))
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "bundle path too long: %s", root);
    const sh_bundle_entry *plist = find_file(b, path);
    if (!plist)
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "%s is missing or not a regular file", path);
    sh_cursor c = sh_cursor_make(plist->data, plist->len);
    sh_error err;
    if (sh_infoplist_parse(&c, b->alloc, &m->info, &err) != SH_E_OK)
        return error_fail(r, SH_SIGN_MALFORMED, path, &err);
    m->plist = plist->data;
    m->plist_len = plist->len;
    const char *exe = m->info.executable;
    if (!exe || !exe[0] || strchr(exe, '/') || strcmp(exe, ".") == 0 || strcmp(exe, "..") == 0)
        return sh_sign_fail(r, SH_SIGN_MALFORMED,
                            "%s: CFBundleExecutable is missing or not a plain file name", path);
    char rel[SH_BSIGN_PATH_SIZE];
    snprintf(rel, sizeof rel, "MacOS/%s", exe); /* too long shows in the join below */
    const sh_bundle_entry *e = NULL;
    if (sh_bsign_join(root, rel, m->exe_path, sizeof m->exe_path))
        e = find_file(b, m->exe_path);
    if (!e)
        return sh_sign_fail(r, SH_SIGN_MALFORMED,
                            "the main executable %s/MacOS/%s (CFBundleExecutable) is missing or "
                            "not a regular file",
                            root[0] ? root : ".", exe);
    m->exe = e->data;
    m->exe_len = e->len;
    m->exe_mode = e->mode;
    return SH_SIGN_OK;
}

void sh_bsign_main_free(sh_bsign_main *m)
{
    sh_infoplist_free(&m->info);
}

/* The designated requirement's text, or the implicit one an ad-hoc signature has. */
static sh_sign_status designated_text(const sh_signature *sig, const uint8_t cdhash[20],
                                      const sh_allocator *alloc, const char *what, char **req,
                                      sh_sign_result *r)
{
    const sh_reqset_entry *dr = NULL;
    sh_reqset set;
    sh_error err;
    for (uint32_t i = 0; i < sig->superblob.count && i < SH_MAX_SUPERBLOB_BLOBS; i++) {
        const sh_blob_entry *e = &sig->superblob.entries[i];
        if (e->type != SH_SLOT_REQUIREMENTS || !e->present)
            continue;
        if (sh_reqset_parse(&e->blob, &set, &err) != SH_E_OK)
            return error_fail(r, SH_SIGN_UNSUPPORTED, what, &err);
        dr = sh_reqset_find(&set, SH_REQ_TYPE_DESIGNATED);
    }
    size_t len;
    if (dr)
        return sh_req_to_text_alloc(&dr->blob, 0, alloc, req, &len, NULL, &err) == SH_E_OK
                   ? SH_SIGN_OK
                   : error_fail(r, SH_SIGN_UNSUPPORTED, what, &err);
    /* No explicit one: Security's implicit designated requirement for ad-hoc code. */
    static const char hex[] = "0123456789abcdef";
    static const char head[] = "cdhash H\"";
    char *text = sh_calloc(alloc, 1, sizeof head + 2 * SH_RES_SHA1_LEN + 1);
    if (!text)
        return sh_sign_fail(r, SH_SIGN_FAILED, "out of memory (requirement)");
    memcpy(text, head, sizeof head - 1);
    char *p = text + sizeof head - 1;
    for (size_t i = 0; i < SH_RES_SHA1_LEN; i++) {
        *p++ = hex[cdhash[i] >> 4];
        *p++ = hex[cdhash[i] & 15];
    }
    memcpy(p, "\"", 2);
    *req = text;
    return SH_SIGN_OK;
}

/* Every CodeDirectory seals file's current bytes in slot (a bundle's Info.plist, CodeResources):
 * a nested bundle edited after it was signed must be signed again before it is sealed. */
static sh_sign_status check_slot(const sh_signature *sig, uint32_t slot,
                                 const sh_bundle_entry *file, const char *what, sh_sign_result *r)
{
    if (!file)
        return SH_SIGN_OK;
    for (uint32_t i = 0; i < sig->ncds; i++) {
        const sh_codedir *cd = &sig->cds[i];
        uint8_t want[SH_HASH_MAX_SIZE];
        sh_cursor got;
        if (!sh_codedir_special_present(cd, slot) || !sh_codedir_special_hash(cd, slot, &got) ||
            !sh_hash(cd->hash_type, file->data, file->len, want) || got.len > sizeof want ||
            memcmp(got.p, want, got.len) != 0)
            return sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                                "nested code %s: its signature does not seal the current %s "
                                "(changed after signing?): sign %s first (inside out)",
                                what, file->path, what);
    }
    return SH_SIGN_OK;
}

static sh_sign_status seal_slice(const sh_macho_slice *s, const sh_bsign_sealed *files,
                                 const sh_allocator *alloc, const char *what,
                                 uint8_t cdhash[SH_RES_SHA1_LEN], char **req, sh_sign_result *r)
{
    sh_cursor data;
    sh_signature sig;
    sh_error err;
    sh_page_report reports[1 + SH_MAX_ALTERNATE_CDS];
    if (sh_macho_signature(s, &data, &err) != SH_E_OK)
        return sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                            "nested code %s is not signed: sign %s first (inside out)", what, what);
    if (sh_signature_parse(&data, &sig, &err) != SH_E_OK ||
        sh_signature_verify_pages(&sig, &s->data, reports, &err) != SH_E_OK) {
        char msg[200];
        sh_error_format(&err, msg, sizeof msg);
        return sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                            "nested code %s has an invalid signature (%s): sign %s first (inside "
                            "out)",
                            what, msg, what);
    }
    sh_sign_status st = files ? check_slot(&sig, SH_SLOT_INFO, files->info, what, r) : SH_SIGN_OK;
    if (st == SH_SIGN_OK && files)
        st = check_slot(&sig, SH_SLOT_RESOURCEDIR, files->resources, what, r);
    if (st != SH_SIGN_OK)
        return st;
    memcpy(cdhash, sig.cds[0].cdhash, SH_RES_SHA1_LEN);
    return designated_text(&sig, cdhash, alloc, what, req, r);
}

/* A universal binary is sealed by its first slice: codesign records the slice it prefers on
 * the signing host; one host-independent choice keeps the seal deterministic (inferred, L). */
sh_sign_status sh_bsign_macho_seal(const uint8_t *data, size_t len, const sh_bsign_sealed *files,
                                   const sh_allocator *alloc, const char *what,
                                   uint8_t cdhash[SH_RES_SHA1_LEN], char **req, sh_sign_result *r)
{
    sh_macho_file f;
    sh_error err;
    *req = NULL;
    if (sh_macho_parse(data, len, alloc, &f, &err) != SH_E_OK) {
        sh_macho_free(&f);
        return error_fail(r, SH_SIGN_MALFORMED, what, &err);
    }
    sh_sign_status st = seal_slice(&f.slices[0], files, alloc, what, cdhash, req, r);
    sh_macho_free(&f);
    return st;
}

sh_sign_status sh_bsign_bundle_seal(const sh_bundle *b, const char *root,
                                    uint8_t cdhash[SH_RES_SHA1_LEN], char **req, sh_sign_result *r)
{
    sh_bsign_main m;
    char path[SH_BSIGN_PATH_SIZE] = "";
    *req = NULL;
    sh_sign_status st = sh_bsign_find_main(b, root, &m, r);
    if (st == SH_SIGN_OK && !sh_bsign_join(root, "_CodeSignature/CodeResources", path, sizeof path))
        st = sh_sign_fail(r, SH_SIGN_MALFORMED, "bundle path too long: %s", root);
    /* path is only meaningful once the main executable was found (valgrind caught the read of an
     * unset path after a failed allocation). */
    sh_bsign_sealed files = {NULL, st == SH_SIGN_OK ? find_file(b, path) : NULL};
    if (st == SH_SIGN_OK && !files.resources)
        st = sh_sign_fail(r, SH_SIGN_UNSUPPORTED,
                          "nested code %s is not signed (no Contents/_CodeSignature/"
                          "CodeResources): sign %s first (inside out)",
                          root, root);
    if (st == SH_SIGN_OK && sh_bsign_join(root, "Info.plist", path, sizeof path)) {
        files.info = find_file(b, path);
        st = sh_bsign_macho_seal(m.exe, m.exe_len, &files, b->alloc, root, cdhash, req, r);
    }
    sh_bsign_main_free(&m);
    return st;
}

sh_sign_status sh_bundle_nested_seal(const sh_bundle *b, const char *root, uint8_t cdhash[20],
                                     char *req, size_t req_size, sh_sign_result *r)
{
    memset(r, 0, sizeof *r);
    if (req_size == 0)
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "no room for the requirement text");
    req[0] = '\0';
    char *text = NULL;
    sh_sign_status st = sh_bsign_bundle_seal(b, root, cdhash, &text, r);
    if (st == SH_SIGN_OK && strlen(text) >= req_size)
        st = sh_sign_fail(r, SH_SIGN_FAILED, "%s: designated requirement longer than %zu bytes",
                          root, req_size - 1);
    if (st == SH_SIGN_OK)
        memcpy(req, text, strlen(text) + 1);
    sh_free(b->alloc, text);
    return st;
}
