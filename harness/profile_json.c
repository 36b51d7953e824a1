/* `sigharness profile --json`: one document per file, schema SH_PROFILE_JSON_SCHEMA. */
#include "profile_cmd.h"

#include "json.h"

static void kv_opt_string(sh_json *j, const char *key, const char *s)
{
    sh_json_key(j, key);
    if (s)
        sh_json_string(j, s);
    else
        sh_json_null(j);
}

static void kv_strings(sh_json *j, const char *key, const sh_profile_strings *s)
{
    sh_json_key(j, key);
    sh_json_array_begin(j);
    for (size_t i = 0; i < s->count; i++)
        sh_json_string(j, s->items[i]);
    sh_json_array_end(j);
}

static void time_value(sh_json *j, int64_t t)
{
    char buf[32];
    sh_profile_format_time(t, buf, sizeof buf);
    sh_json_string(j, buf);
}

static void kv_time(sh_json *j, const char *key, int64_t t)
{
    sh_json_key(j, key);
    time_value(j, t);
}

static void json_error(sh_json *j, const char *key, sh_err code, const sh_error *err)
{
    sh_json_key(j, key);
    if (code == SH_E_OK) {
        sh_json_null(j);
        return;
    }
    char msg[512];
    sh_error_format(err, msg, sizeof msg);
    sh_json_object_begin(j);
    sh_json_kv_string(j, "code", sh_err_name(code));
    sh_json_kv_int(j, "errsec", (int64_t)sh_err_errsec(code));
    kv_opt_string(j, "errsec_name", sh_errsec_name(sh_err_errsec(code)));
    sh_json_kv_string(j, "message", msg);
    sh_json_object_end(j);
}

static void json_certs(sh_json *j, const sh_profile *p)
{
    sh_json_key(j, "developer_certificates");
    sh_json_array_begin(j);
    for (size_t i = 0; i < p->ncerts; i++) {
        const sh_profile_cert *c = &p->certs[i];
        sh_json_object_begin(j);
        sh_json_kv_string(j, "cn", c->facts.cn);
        kv_opt_string(j, "team", c->facts.has_ou ? c->facts.ou : NULL);
        sh_json_kv_string(j, "kind", sh_cert_kind_name(c->kind));
        sh_json_kv_string(j, "serial", c->serial);
        sh_json_key(j, "sha1");
        sh_json_hex(j, c->sha1, sizeof c->sha1);
        sh_json_key(j, "sha256");
        sh_json_hex(j, c->facts.sha256, sizeof c->facts.sha256);
        kv_time(j, "not_before", c->facts.not_before);
        kv_time(j, "not_after", c->facts.not_after);
        sh_json_object_end(j);
    }
    sh_json_array_end(j);
}

static void json_signature(sh_json *j, const sh_profile *p)
{
    const sh_profile_signature *s = &p->sig;
    sh_json_key(j, "signature");
    sh_json_object_begin(j);
    kv_opt_string(j, "signer", s->has_signer ? s->signer.cn : NULL);
    sh_json_kv_uint(j, "certificates", s->ncerts);
    sh_json_key(j, "signing_time");
    if (s->has_signing_time)
        time_value(j, s->signing_time);
    else
        sh_json_null(j);
    sh_json_kv_bool(j, "signature_verified", s->signature_verified);
    sh_json_kv_bool(j, "chain_verified", s->chain_verified);
    sh_json_kv_string(j, "anchor", sh_profile_anchor_name(s->anchor));
    sh_json_key(j, "chain");
    sh_json_array_begin(j);
    for (uint32_t i = 0; i < s->chain.length; i++)
        sh_json_string(j, s->chain.certs[i].cn);
    sh_json_array_end(j);
    json_error(j, "error", s->result, &s->err);
    sh_json_object_end(j);
}

static void json_profile(sh_json *j, const sh_profile *p)
{
    kv_opt_string(j, "name", p->name);
    kv_opt_string(j, "uuid", p->uuid);
    sh_json_kv_string(j, "kind", sh_profile_kind_name(p->kind));
    kv_opt_string(j, "team_name", p->team_name);
    kv_strings(j, "team_identifiers", &p->team_ids);
    kv_opt_string(j, "app_id_name", p->app_id_name);
    kv_strings(j, "application_identifier_prefixes", &p->app_id_prefixes);
    kv_strings(j, "platforms", &p->platforms);
    kv_time(j, "created", p->creation_date);
    kv_time(j, "expires", p->expiration_date);
    if (p->has_ttl)
        sh_json_kv_int(j, "time_to_live", p->ttl);
    sh_json_kv_bool(j, "provisions_all_devices", p->provisions_all_devices);
    sh_json_kv_uint(j, "device_count", p->devices.count);
    kv_strings(j, "devices", &p->devices);
    json_certs(j, p);
    sh_json_key(j, "entitlement_keys");
    sh_json_array_begin(j);
    for (size_t i = 0; i < p->entitlements.root.count; i++)
        sh_json_string(j, p->entitlements.root.keys[i].str);
    sh_json_array_end(j);
    sh_json_kv_bool(j, "der_encoded_profile", p->has_der_profile);
    kv_strings(j, "other_keys", &p->other_keys);
    json_signature(j, p);
}

void sh_profile_print_json(const char *path, const sh_profile *p, sh_err parse_result,
                           const sh_error *err, sh_err expiry, int exit_code, FILE *out)
{
    sh_json j;
    sh_json_init(&j, out);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", SH_PROFILE_JSON_SCHEMA);
    sh_json_kv_string(&j, "path", path);
    sh_json_kv_int(&j, "exit_code", exit_code);
    sh_json_kv_bool(&j, "decoded", p->decoded);
    json_error(&j, "error", parse_result, err);
    sh_json_kv_bool(&j, "expired", expiry != SH_E_OK);
    if (p->decoded)
        json_profile(&j, p);
    sh_json_object_end(&j);
    fputc('\n', out);
}
