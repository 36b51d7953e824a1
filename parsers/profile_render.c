/* Text renderings of a decoded profile: the plist as XML (security cms -D -i) and a summary. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plist_guard.h"
#include "profile_internal.h"

void sh_profile_format_time(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "@%" PRId64, t);
}

/* A binary payload goes back through the guard and libplist, then libplist's XML writer. */
static bool write_binary_as_xml(const sh_profile *p, FILE *out)
{
    sh_cursor c = sh_cursor_make(p->content, p->content_len);
    plist_t root = NULL;
    sh_error err = {0};
    if (sh_plist_parse(&c, p->alloc, &root, NULL, &err) != SH_E_OK)
        return false;
    char *xml = NULL;
    uint32_t len = 0;
    plist_to_xml(root, &xml, &len);
    plist_free(root);
    bool ok = xml != NULL && fwrite(xml, 1, len, out) == len;
    if (xml != NULL)
        plist_to_xml_free(xml);
    return ok;
}

bool sh_profile_write_xml(const sh_profile *p, FILE *out)
{
    if (p->content == NULL)
        return false;
    if (p->content_binary)
        return write_binary_as_xml(p, out);
    return fwrite(p->content, 1, p->content_len, out) == p->content_len;
}

/* ---- summary ---- */

static void write_list(FILE *out, const char *label, const sh_profile_strings *s)
{
    fprintf(out, "%-22s", label);
    for (size_t i = 0; i < s->count; i++)
        fprintf(out, "%s%s", i ? ", " : "", s->items[i]);
    fputs(s->count ? "\n" : "(none)\n", out);
}

static const char *or_none(const char *s)
{
    return s ? s : "(none)";
}

static void write_hex(FILE *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", b[i]);
}

static void write_certs(const sh_profile *p, FILE *out)
{
    fprintf(out, "%-22s%zu\n", "DeveloperCertificates", p->ncerts);
    for (size_t i = 0; i < p->ncerts; i++) {
        const sh_profile_cert *c = &p->certs[i];
        char from[32], to[32];
        sh_profile_format_time(c->facts.not_before, from, sizeof from);
        sh_profile_format_time(c->facts.not_after, to, sizeof to);
        fprintf(out, "  [%zu] %s\n      kind %s, team %s, serial %s\n      valid %s .. %s\n      sha1 ",
                i, c->facts.cn, sh_cert_kind_name(c->kind), c->facts.has_ou ? c->facts.ou : "-",
                c->serial[0] ? c->serial : "-", from, to);
        write_hex(out, c->sha1, sizeof c->sha1);
        fputs("\n      sha256 ", out);
        write_hex(out, c->facts.sha256, sizeof c->facts.sha256);
        fputc('\n', out);
    }
}

static void write_entitlements(const sh_profile *p, FILE *out)
{
    const sh_ent_node *root = &p->entitlements.root;
    fprintf(out, "%-22s%zu keys\n", "Entitlements", root->count);
    for (size_t i = 0; i < root->count; i++)
        fprintf(out, "  %s (%s)\n", root->keys[i].str, sh_ent_type_name(root->items[i].type));
}

static void write_signature(const sh_profile *p, FILE *out)
{
    const sh_profile_signature *s = &p->sig;
    char when[32];
    fprintf(out, "%-22s%s\n", "Signer", s->has_signer ? s->signer.cn : "(not in the CMS)");
    if (s->has_signing_time) {
        sh_profile_format_time(s->signing_time, when, sizeof when);
        fprintf(out, "%-22s%s\n", "Signing time", when);
    }
    fprintf(out, "%-22s%s\n", "Signature", s->signature_verified ? "valid" : "INVALID");
    fprintf(out, "%-22s", "Chain");
    for (uint32_t i = 0; i < s->chain.length; i++)
        fprintf(out, "%s%s", i ? " -> " : "", s->chain.certs[i].cn);
    fprintf(out, "%s%s (anchor: %s)\n", s->chain.length ? "" : "(not built)",
            s->chain_verified ? ", verified" : ", NOT verified", sh_profile_anchor_name(s->anchor));
    if (s->result != SH_E_OK) {
        char msg[512];
        sh_error_format(&s->err, msg, sizeof msg);
        fprintf(out, "%-22s%s: %s\n", "Signature error", sh_err_name(s->result), msg);
    }
}

void sh_profile_write_summary(const sh_profile *p, FILE *out)
{
    char created[32], expires[32];
    sh_profile_format_time(p->creation_date, created, sizeof created);
    sh_profile_format_time(p->expiration_date, expires, sizeof expires);
    const char *app_id = sh_ent_get_string(&p->entitlements.root, "application-identifier");
    if (app_id == NULL)
        app_id = sh_ent_get_string(&p->entitlements.root, "com.apple.application-identifier");
    fprintf(out, "%-22s%s\n%-22s%s\n", "Name", or_none(p->name), "UUID", or_none(p->uuid));
    fprintf(out, "%-22s%s\n", "Kind", sh_profile_kind_name(p->kind));
    fprintf(out, "%-22s%s\n", "Team name", or_none(p->team_name));
    write_list(out, "Team identifier", &p->team_ids);
    fprintf(out, "%-22s%s\n%-22s%s\n", "App ID name", or_none(p->app_id_name), "App ID",
            or_none(app_id));
    write_list(out, "Platform", &p->platforms);
    fprintf(out, "%-22s%s\n%-22s%s\n", "Created", created, "Expires", expires);
    if (p->has_ttl)
        fprintf(out, "%-22s%" PRId64 " days\n", "Time to live", p->ttl);
    fprintf(out, "%-22s%s\n", "Provisions all", p->provisions_all_devices ? "yes" : "no");
    fprintf(out, "%-22s%zu%s\n", "Devices", p->devices.count, p->has_devices ? "" : " (no list)");
    write_certs(p, out);
    write_entitlements(p, out);
    if (p->has_der_profile)
        fprintf(out, "%-22s%zu bytes\n", "DER-Encoded-Profile", p->der_profile_len);
    if (p->other_keys.count)
        write_list(out, "Other keys", &p->other_keys);
    write_signature(p, out);
}
