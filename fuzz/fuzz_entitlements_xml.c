/* Property lists and XML entitlements: plist_guard (XML and binary) in front of libplist, then the
 * entitlements tree, its DER encoding and lookups.
 *
 * Oracles beyond the sanitizers (each traps, so the fuzzer reports it):
 * - whatever the guard accepts, libplist parses;
 * - libplist's tree has exactly the nodes, keys and depth the guard counted (the guard and
 *   libplist read the same structure);
 * - entitlements parsed from XML encode to DER that decodes to an equal tree (when encodable). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "entitlements.h"
#include "plist_guard.h"

typedef struct counts {
    uint64_t nodes, keys;
    uint32_t max_depth;
} counts;

static void count(plist_t p, uint32_t depth, counts *c)
{
    c->nodes++;
    plist_type t = plist_get_node_type(p);
    if (t == PLIST_DICT || t == PLIST_ARRAY) {
        if (depth > c->max_depth)
            c->max_depth = depth;
    }
    if (t == PLIST_DICT) {
        plist_dict_iter it = NULL;
        plist_dict_new_iter(p, &it);
        for (;;) {
            char *key = NULL;
            plist_t v = NULL;
            plist_dict_next_item(p, it, &key, &v);
            if (!key)
                break;
            free(key);
            c->nodes++; /* the key node */
            c->keys++;
            count(v, depth + 1, c);
        }
        free(it);
    } else if (t == PLIST_ARRAY) {
        plist_array_iter it = NULL;
        plist_array_new_iter(p, &it);
        for (;;) {
            plist_t v = NULL;
            plist_array_next_item(p, it, &v);
            if (!v)
                break;
            count(v, depth + 1, c);
        }
        free(it);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_error err = {0};
    sh_plist_stats st;
    plist_t p = NULL;
    sh_err e = sh_plist_parse(&c, NULL, &p, &st, &err);
    if (e == SH_E_PLIST_LIBPLIST_FAILED)
        __builtin_trap(); /* the guard let through something libplist refuses */
    if (e == SH_E_OK) {
        counts n = {0};
        count(p, 1, &n);
        if (n.nodes != st.nodes || n.keys != st.dict_keys || n.max_depth != st.max_depth)
            __builtin_trap(); /* the guard and libplist disagree on the structure */
        plist_free(p);
    }

    sh_entitlements ent;
    sh_ent_path path;
    if (sh_entitlements_parse_xml(&c, NULL, &ent, &path, &err) == SH_E_OK) {
        uint8_t *der = NULL;
        size_t len = 0;
        if (sh_entitlements_encode_der(&ent.root, NULL, &der, &len, &path, &err) == SH_E_OK) {
            sh_cursor dc = sh_cursor_make(der, len);
            sh_entitlements back;
            if (sh_entitlements_parse_der(&dc, NULL, &back, &path, &err) != SH_E_OK)
                __builtin_trap(); /* the encoder wrote something the decoder refuses */
            if (sh_entitlements_compare(&ent.root, &back.root, NULL, &err) != SH_E_OK)
                __builtin_trap();
            sh_entitlements_free(&back);
            free(der);
        }
        sh_ent_get_bool(&ent.root, "com.apple.security.app-sandbox");
        sh_ent_get_string(&ent.root, "application-identifier");
        if (ent.root.count)
            sh_ent_dict_get(&ent.root, ent.root.keys[ent.root.count - 1].str);
        sh_entitlements_free(&ent);
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
