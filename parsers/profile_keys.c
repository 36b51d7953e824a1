/* The profile plist's keys into typed fields (profile.h, step 4).  The plist went through
 * plist_guard before libplist built this tree: depth, node count and duplicate keys are bounded
 * already; every count here is bounded again by the profile limits. */
#include <stdlib.h>
#include <string.h>

#include "plist_guard.h"
#include "profile_internal.h"

typedef struct key_ctx {
    sh_profile *out;
    sh_verify_memo *memo; /* decodes each DeveloperCertificate once (NULL: none) */
    sh_error *err;
    const char *key; /* static name from the table below (error "where") */
} key_ctx;

static sh_err type_error(key_ctx *k, int64_t index, plist_t v)
{
    return sh_fail_value(k->err, SH_E_PROFILE_KEY_TYPE, k->key, index, 0,
                         (uint64_t)plist_get_node_type(v));
}

static sh_err want(key_ctx *k, plist_t v, plist_type type, int64_t index)
{
    return plist_get_node_type(v) == type ? SH_E_OK : type_error(k, index, v);
}

/* ---- scalars ---- */

static sh_err get_string(key_ctx *k, plist_t v, int64_t index, char **out)
{
    sh_err e = want(k, v, PLIST_STRING, index);
    if (e != SH_E_OK)
        return e;
    uint64_t len = 0;
    const char *s = plist_get_string_ptr(v, &len);
    sh_cursor view = sh_cursor_make((const uint8_t *)s, s ? (size_t)len : 0);
    uint64_t bad;
    if (s == NULL || len == 0 || len > SH_MAX_PROFILE_STRING || memchr(s, 0, (size_t)len) ||
        !sh_utf8_valid(&view, &bad))
        return sh_fail_value(k->err, SH_E_PROFILE_BAD_STRING, k->key, index, 0, len);
    *out = sh_profile_strdup(k->out->alloc, s, (size_t)len);
    return *out ? SH_E_OK : sh_fail(k->err, SH_E_NO_MEMORY, k->key, index, 0);
}

static sh_err get_bool(key_ctx *k, plist_t v, bool *has, bool *out)
{
    sh_err e = want(k, v, PLIST_BOOLEAN, -1);
    uint8_t b = 0;
    if (e == SH_E_OK) {
        plist_get_bool_val(v, &b);
        *has = true;
        *out = b != 0;
    }
    return e;
}

static sh_err get_int(key_ctx *k, plist_t v, bool *has, int64_t *out)
{
    sh_err e = want(k, v, PLIST_UINT, -1);
    uint64_t u = 0;
    if (e == SH_E_OK) {
        plist_get_uint_val(v, &u);
        if (u > (uint64_t)INT64_MAX) /* negative in libplist 2.2's unsigned view, or huge */
            return sh_fail_value(k->err, SH_E_PROFILE_KEY_TYPE, k->key, -1, 0, u);
        *has = true;
        *out = (int64_t)u;
    }
    return e;
}

static sh_err get_date(key_ctx *k, plist_t v, int64_t *out)
{
    sh_err e = want(k, v, PLIST_DATE, -1);
    int32_t sec = 0, usec = 0;
    if (e == SH_E_OK) {
        plist_get_date_val(v, &sec, &usec);
        *out = (int64_t)sec + SH_PLIST_EPOCH;
    }
    return e;
}

/* ---- arrays ---- */

static sh_err get_strings(key_ctx *k, plist_t v, size_t max, sh_err too_many,
                          sh_profile_strings *out)
{
    sh_err e = want(k, v, PLIST_ARRAY, -1);
    if (e != SH_E_OK)
        return e;
    size_t n = plist_array_get_size(v);
    if (n > max)
        return sh_fail_value(k->err, too_many, k->key, -1, 0, n);
    out->items = sh_calloc(k->out->alloc, n, sizeof *out->items);
    if (out->items == NULL)
        return sh_fail(k->err, SH_E_NO_MEMORY, k->key, -1, 0);
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        e = get_string(k, plist_array_get_item(v, (uint32_t)i), (int64_t)i, &out->items[i]);
        if (e == SH_E_OK)
            out->count = i + 1;
    }
    return e;
}

static sh_err get_certs(key_ctx *k, plist_t v)
{
    sh_profile *p = k->out;
    sh_err e = want(k, v, PLIST_ARRAY, -1);
    if (e != SH_E_OK)
        return e;
    size_t n = plist_array_get_size(v);
    if (n > SH_MAX_PROFILE_CERTS)
        return sh_fail_value(k->err, SH_E_PROFILE_TOO_MANY_CERTS, k->key, -1, 0, n);
    p->certs = sh_calloc(p->alloc, n, sizeof *p->certs);
    if (p->certs == NULL)
        return sh_fail(k->err, SH_E_NO_MEMORY, k->key, -1, 0);
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        plist_t item = plist_array_get_item(v, (uint32_t)i);
        e = want(k, item, PLIST_DATA, (int64_t)i);
        uint64_t len = 0;
        const char *der = e == SH_E_OK ? plist_get_data_ptr(item, &len) : NULL;
        if (e == SH_E_OK)
            e = sh_profile_cert_decode((const uint8_t *)der, der ? (size_t)len : 0, i, k->memo,
                                       &p->certs[i], k->err);
        if (e == SH_E_OK)
            p->ncerts = i + 1;
    }
    return e;
}

/* ---- Entitlements: through libplist's XML writer into the entitlements tree ---- */

static sh_err get_entitlements(key_ctx *k, plist_t v)
{
    if (plist_get_node_type(v) != PLIST_DICT)
        return sh_fail_value(k->err, SH_E_PROFILE_ENTITLEMENTS_NOT_DICT, k->key, -1, 0,
                             (uint64_t)plist_get_node_type(v));
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(v, &xml, &len);
    if (xml == NULL)
        return sh_fail(k->err, SH_E_NO_MEMORY, k->key, -1, 0);
    sh_cursor c = sh_cursor_make((const uint8_t *)xml, len);
    sh_err e = sh_entitlements_parse_xml(&c, k->out->alloc, &k->out->entitlements, NULL, k->err);
    plist_to_xml_free(xml);
    return e;
}

static sh_err get_der_profile(key_ctx *k, plist_t v)
{
    sh_err e = want(k, v, PLIST_DATA, -1);
    uint64_t len = 0;
    if (e == SH_E_OK) {
        plist_get_data_ptr(v, &len);
        k->out->has_der_profile = true;
        k->out->der_profile_len = (size_t)len;
    }
    return e;
}

/* ---- the key table ---- */

typedef enum key_id {
    K_APP_ID_NAME, K_PREFIX, K_TEAM_IDS, K_TEAM_NAME, K_NAME, K_UUID, K_PLATFORM, K_XCODE,
    K_CREATED, K_EXPIRES, K_TTL, K_VERSION, K_DEVICES, K_ALL_DEVICES, K_ENTITLEMENTS, K_CERTS,
    K_DER_PROFILE, K_COUNT
} key_id;

static const struct {
    const char *name;
    bool required;
} KEYS[K_COUNT] = {
    [K_APP_ID_NAME] = {"AppIDName", false},
    [K_PREFIX] = {"ApplicationIdentifierPrefix", false},
    [K_TEAM_IDS] = {"TeamIdentifier", true},
    [K_TEAM_NAME] = {"TeamName", false},
    [K_NAME] = {"Name", true},
    [K_UUID] = {"UUID", true},
    [K_PLATFORM] = {"Platform", false},
    [K_XCODE] = {"IsXcodeManaged", false},
    [K_CREATED] = {"CreationDate", true},
    [K_EXPIRES] = {"ExpirationDate", true},
    [K_TTL] = {"TimeToLive", false},
    [K_VERSION] = {"Version", false},
    [K_DEVICES] = {"ProvisionedDevices", false},
    [K_ALL_DEVICES] = {"ProvisionsAllDevices", false},
    [K_ENTITLEMENTS] = {"Entitlements", true},
    [K_CERTS] = {"DeveloperCertificates", true},
    [K_DER_PROFILE] = {"DER-Encoded-Profile", false},
};

static int key_lookup(const char *name)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(KEYS[i].name, name) == 0)
            return i;
    return -1;
}

static sh_err decode_key(key_ctx *k, key_id id, plist_t v)
{
    sh_profile *p = k->out;
    switch (id) {
    case K_APP_ID_NAME: return get_string(k, v, -1, &p->app_id_name);
    case K_PREFIX:
        return get_strings(k, v, SH_MAX_PROFILE_LIST, SH_E_PROFILE_TOO_MANY_ITEMS,
                           &p->app_id_prefixes);
    case K_TEAM_IDS:
        return get_strings(k, v, SH_MAX_PROFILE_LIST, SH_E_PROFILE_TOO_MANY_ITEMS, &p->team_ids);
    case K_TEAM_NAME: return get_string(k, v, -1, &p->team_name);
    case K_NAME: return get_string(k, v, -1, &p->name);
    case K_UUID: return get_string(k, v, -1, &p->uuid);
    case K_PLATFORM:
        return get_strings(k, v, SH_MAX_PROFILE_LIST, SH_E_PROFILE_TOO_MANY_ITEMS, &p->platforms);
    case K_XCODE: return get_bool(k, v, &p->has_xcode_managed, &p->is_xcode_managed);
    case K_CREATED: return get_date(k, v, &p->creation_date);
    case K_EXPIRES: return get_date(k, v, &p->expiration_date);
    case K_TTL: return get_int(k, v, &p->has_ttl, &p->ttl);
    case K_VERSION: return get_int(k, v, &p->has_version, &p->version);
    case K_DEVICES:
        p->has_devices = true;
        return get_strings(k, v, SH_MAX_PROFILE_DEVICES, SH_E_PROFILE_TOO_MANY_DEVICES,
                           &p->devices);
    case K_ALL_DEVICES: return get_bool(k, v, &p->has_all_devices, &p->provisions_all_devices);
    case K_ENTITLEMENTS: return get_entitlements(k, v);
    case K_CERTS: return get_certs(k, v);
    case K_DER_PROFILE: return get_der_profile(k, v);
    case K_COUNT: break;
    }
    return SH_E_OK;
}

/* ---- the dict ---- */

typedef struct walk {
    key_ctx k;
    uint32_t seen;  /* bit per key_id */
    size_t nother;  /* unknown keys counted (first pass) or stored (second) */
    size_t cap;     /* other_keys entries allocated */
    bool store;     /* second pass: keep unknown key names */
} walk;

static sh_err visit(walk *w, const char *name, plist_t v)
{
    int id = key_lookup(name);
    if (id < 0) {
        if (w->store) {
            sh_profile_strings *o = &w->k.out->other_keys;
            if (o->count >= w->cap)
                return sh_fail(w->k.err, SH_E_PLIST_LIBPLIST_FAILED, "profile key", -1, 0);
            o->items[o->count] = sh_profile_strdup(w->k.out->alloc, name, strlen(name));
            if (o->items[o->count] == NULL)
                return sh_fail(w->k.err, SH_E_NO_MEMORY, "profile key", -1, 0);
            o->count++;
        }
        w->nother++;
        return SH_E_OK;
    }
    if (!w->store)
        return SH_E_OK;
    if (w->seen & (1u << id)) /* the guard refuses duplicate keys; never trust it twice */
        return sh_fail(w->k.err, SH_E_PLIST_DUPLICATE_KEY, KEYS[id].name, -1, 0);
    w->seen |= 1u << id;
    w->k.key = KEYS[id].name;
    return decode_key(&w->k, (key_id)id, v);
}

static sh_err walk_dict(walk *w, plist_t root, size_t n)
{
    plist_dict_iter it = NULL;
    plist_dict_new_iter(root, &it);
    if (it == NULL)
        return sh_fail(w->k.err, SH_E_NO_MEMORY, "profile plist", -1, 0);
    sh_err e = SH_E_OK;
    w->nother = 0;
    for (size_t i = 0; i < n && e == SH_E_OK; i++) {
        char *key = NULL;
        plist_t v = NULL;
        plist_dict_next_item(root, it, &key, &v);
        if (key == NULL || v == NULL)
            e = sh_fail(w->k.err, SH_E_PLIST_LIBPLIST_FAILED, "profile plist", (int64_t)i, 0);
        else
            e = visit(w, key, v);
        free(key); /* libplist's allocation */
    }
    free(it); /* libplist's allocation */
    return e;
}

static sh_err check_required(const walk *w)
{
    for (int i = 0; i < K_COUNT; i++)
        if (KEYS[i].required && !(w->seen & (1u << i)))
            return sh_fail(w->k.err, SH_E_PROFILE_MISSING_KEY, KEYS[i].name, -1, 0);
    return SH_E_OK;
}

sh_err sh_profile_decode_plist(plist_t root, sh_verify_memo *memo, sh_profile *out, sh_error *err)
{
    if (plist_get_node_type(root) != PLIST_DICT)
        return sh_fail_value(err, SH_E_PROFILE_ROOT_NOT_DICT, "profile plist", -1, 0,
                             (uint64_t)plist_get_node_type(root));
    size_t n = plist_dict_get_size(root);
    if (n > SH_MAX_PROFILE_KEYS)
        return sh_fail_value(err, SH_E_PROFILE_TOO_MANY_KEYS, "profile plist", -1, 0, n);
    walk w = {.k = {.out = out, .memo = memo, .err = err}};
    sh_err e = walk_dict(&w, root, n); /* pass 1: count unknown keys */
    if (e != SH_E_OK)
        return e;
    out->other_keys.items = sh_calloc(out->alloc, w.nother, sizeof *out->other_keys.items);
    if (out->other_keys.items == NULL)
        return sh_fail(err, SH_E_NO_MEMORY, "profile plist", -1, 0);
    w.cap = w.nother;
    w.store = true;
    e = walk_dict(&w, root, n); /* pass 2: decode */
    return e == SH_E_OK ? check_required(&w) : e;
}
