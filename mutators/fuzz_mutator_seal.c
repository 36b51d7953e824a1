/* A resource seal written by another tool: after a rebuild, the bundle's
 * _CodeSignature/CodeResources is edited and the main executable signed again over the edited
 * file (special slot 3), so the seal is consistent with the signature and the verdict's seal
 * walk has to judge the edited rules and entries themselves.  Modelled on what real seals hold:
 * codesign before 10.9 wrote rules and files only (no rules2/files2); --resource-rules and
 * Xcode's old ResourceRules.plist added omit and optional rules with weights (as <real>, the
 * way Apple writes them); optional entries for files that may be missing; SHA-1-only entries;
 * symlink entries; nested-code entries whose requirement text differs from the nested code's
 * designated requirement; entries for files that are not in the bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "fuzz_mutator_internal.h"
#include "mut_toolkit.h"
#include "signer.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define REQ_TEXT_MAX 1536u

static plist_t rule_value(sh_fm_rng *rng)
{
    plist_t d;
    switch (sh_fm_rng_below(rng, 5)) {
    case 0: return plist_new_bool(1);
    case 1: return plist_new_bool(0);
    case 2:
        d = plist_new_dict();
        plist_dict_set_item(d, "omit", plist_new_bool(1));
        plist_dict_set_item(d, "weight", plist_new_real(sh_fm_rng_percent(rng, 50) ? 20 : 2000));
        return d;
    case 3:
        d = plist_new_dict();
        plist_dict_set_item(d, "optional", plist_new_bool(1));
        plist_dict_set_item(d, "weight", plist_new_real(1000));
        return d;
    default:
        d = plist_new_dict();
        plist_dict_set_item(d, "nested", plist_new_bool(1));
        plist_dict_set_item(d, "weight", plist_new_uint(sh_fm_rng_below(rng, 3) * 10));
        return d;
    }
}

/* The nth key of dict (n taken modulo its size), or NULL. */
static char *nth_key(plist_t dict, uint64_t n, plist_t *value)
{
    uint32_t size = plist_dict_get_size(dict);
    if (!size)
        return NULL;
    n %= size;
    plist_dict_iter it = NULL;
    plist_dict_new_iter(dict, &it);
    char *key = NULL;
    for (uint64_t i = 0; it && i <= n; i++) {
        free(key);
        key = NULL;
        plist_dict_next_item(dict, it, &key, value);
    }
    free(it);
    return key;
}

static const char *edit_files2(plist_t files, sh_fm_rng *rng, const char *identifier)
{
    plist_t entry = NULL;
    char *key = nth_key(files, sh_fm_rng_next(rng), &entry);
    if (!key || !entry)
        return NULL;
    const char *what = NULL;
    bool dict = plist_get_node_type(entry) == PLIST_DICT;
    switch (sh_fm_rng_below(rng, 6)) {
    case 0:
        if (dict) {
            plist_dict_set_item(entry, "optional", plist_new_bool(1));
            what = "seal.optional_entry";
        }
        break;
    case 1:
        if (dict && plist_dict_get_item(entry, "hash2")) {
            plist_dict_remove_item(entry, "hash2"); /* SHA-1 only, as codesign 10.8 sealed */
            what = "seal.sha1_only";
        }
        break;
    case 2:
        plist_dict_remove_item(files, key);
        what = "seal.entry_dropped";
        break;
    case 3: {
        plist_t link = plist_new_dict();
        plist_dict_set_item(link, "symlink", plist_new_string("Resources/Base.lproj"));
        plist_dict_set_item(files, key, link);
        what = "seal.symlink_entry";
        break;
    }
    case 4:
        if (dict && plist_dict_get_item(entry, "cdhash")) {
            /* the nested code's requirement as another signing of it would state it */
            char text[REQ_TEXT_MAX];
            sh_fm_req_facts f = {identifier, "SHTEAM0001", ""};
            if (sh_fm_requirement_text(rng, &f, text, sizeof text)) {
                const char *expr = strstr(text, "=> ");
                plist_dict_set_item(entry, "requirement", plist_new_string(expr ? expr + 3 : text));
                what = "seal.nested_requirement";
            }
        }
        break;
    default: {
        static const uint8_t h[32] = {0x5e, 0xa1};
        plist_t add = plist_new_dict();
        plist_dict_set_item(add, "hash2", plist_new_data((const char *)h, sizeof h));
        if (sh_fm_rng_percent(rng, 50))
            plist_dict_set_item(add, "optional", plist_new_bool(1));
        plist_dict_set_item(files, "Resources/Missing.strings", add);
        what = "seal.entry_for_missing_file";
        break;
    }
    }
    free(key);
    return what;
}

static const char *edit_seal(plist_t seal, sh_fm_rng *rng, const char *identifier)
{
    static const char *const patterns[] = {
        "^Resources/", "^Resources/.*\\.lproj/", "^Resources/AppIcon\\.icns$", "^.*",
        "^Library/SystemExtensions/", "^MacOS/", "^embedded\\.provisionprofile$",
        "^Resources/Base\\.lproj/Main\\.storyboardc/",
    };
    switch (sh_fm_rng_below(rng, 5)) {
    case 0:
    case 1: {
        plist_t rules = plist_dict_get_item(seal, sh_fm_rng_percent(rng, 80) ? "rules2" : "rules");
        if (!rules || plist_get_node_type(rules) != PLIST_DICT)
            return NULL;
        plist_dict_set_item(rules, patterns[sh_fm_rng_below(rng, COUNT_OF(patterns))],
                            rule_value(rng));
        return "seal.rule";
    }
    case 2:
    case 3: {
        plist_t files = plist_dict_get_item(seal, "files2");
        if (!files || plist_get_node_type(files) != PLIST_DICT)
            return NULL;
        return edit_files2(files, rng, identifier);
    }
    default:
        if (sh_fm_rng_percent(rng, 60)) {
            plist_dict_remove_item(seal, "files2"); /* a version 1 seal */
            plist_dict_remove_item(seal, "rules2");
            return "seal.v1_only";
        }
        plist_dict_remove_item(seal, sh_fm_rng_percent(rng, 50) ? "files" : "rules");
        return "seal.v2_only";
    }
}

const char *sh_fm_seal_rewrite(sh_mut_ctx *ctx, const char *root, const sh_sign_options *code,
                               sh_fm_rng *rng)
{
    char seal_path[SH_MAX_BUNDLE_PATH + 1], info_path[SH_MAX_BUNDLE_PATH + 1];
    char exe_path[SH_MAX_BUNDLE_PATH + 1];
    if (!sh_mut_path(seal_path, sizeof seal_path, root, "_CodeSignature/CodeResources") ||
        !sh_mut_path(info_path, sizeof info_path, root, "Info.plist") ||
        !sh_mut_main_executable(ctx, root, exe_path, sizeof exe_path))
        return NULL;
    plist_t seal = NULL;
    if (!sh_mut_plist_read(ctx, seal_path, &seal))
        return NULL;
    const char *what = plist_get_node_type(seal) == PLIST_DICT
                           ? edit_seal(seal, rng, code->identifier ? code->identifier : "")
                           : NULL;
    sh_bytebuf text;
    sh_bytebuf_init(&text, NULL);
    bool ok = what && sh_fm_plist_text(seal, rng, false, &text) &&
              sh_bundle_put_file(ctx->bundle, seal_path, text.data, text.len, 0644, NULL) == SH_E_OK;
    plist_free(seal);
    sh_bytebuf_free(&text);
    const sh_bundle_entry *info = sh_bundle_find(ctx->bundle, info_path);
    const sh_bundle_entry *res = sh_bundle_find(ctx->bundle, seal_path);
    const sh_bundle_entry *exe = sh_bundle_find(ctx->bundle, exe_path);
    if (!ok || !info || !res || !exe || info->kind != SH_BUNDLE_FILE ||
        res->kind != SH_BUNDLE_FILE || exe->kind != SH_BUNDLE_FILE)
        return NULL;
    /* the executable signed again exactly as before, over the edited seal */
    sh_sign_options o = *code;
    o.info_plist = info->data;
    o.info_plist_len = info->len;
    o.resources = res->data;
    o.resources_len = res->len;
    o.force = true;
    sh_bytebuf signed_exe;
    sh_bytebuf_init(&signed_exe, NULL);
    sh_sign_result r;
    uint32_t mode = exe->mode;
    ok = sh_sign_macho(exe->data, exe->len, &o, &signed_exe, &r) == SH_SIGN_OK &&
         sh_bundle_put_file(ctx->bundle, exe_path, signed_exe.data, signed_exe.len, mode, NULL) ==
             SH_E_OK;
    sh_bytebuf_free(&signed_exe);
    return ok ? what : NULL;
}
