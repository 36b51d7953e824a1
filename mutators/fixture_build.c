/* Fixture builder: spec -> signed app + system extension (see fixture_build.h). */
#include "fixture_build_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bundle_signer.h"
#include "macho.h"
#include "macho_synth.h"
#include "pki.h"
#include "pki_keyring.h"
#include "profile_writer.h"
#include "signature.h"

/* Sizes of __TEXT,__text: a small real program (a SwiftUI app's main binary is ~100 KiB per
 * slice, a system extension's ~50 KiB). */
#define APP_TEXT_SIZE (96u << 10)
#define EXTENSION_TEXT_SIZE (48u << 10)
#define ICON_BYTES 4096u

typedef struct build_ctx {
    const sh_fx_bundle *s;
    const sh_allocator *alloc;
    const sh_pki_identity *identity, *profile_signer; /* from the keyring, or the own_ ones */
    const sh_pki_tsa *tsa;
    sh_pki_identity own_identity, own_profile_signer;
    sh_pki_tsa own_tsa;
    sh_fx_built *out;
    char *why;
    size_t why_size;
} build_ctx;

__attribute__((format(printf, 2, 3))) static bool failf(build_ctx *c, const char *fmt, ...)
{
    if (c->why && c->why_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->why_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* FNV-1a: seeds the synthetic code and resources from the identifiers, so two fixtures never
 * share bytes by accident but one fixture always gets the same ones. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static bool put(build_ctx *c, const char *path, const uint8_t *data, size_t len, uint32_t mode)
{
    sh_error e = {0};
    if (sh_bundle_put_file(&c->out->bundle, path, data, len, mode, &e) != SH_E_OK)
        return failf(c, "%s: %s", path, sh_err_message(e.code));
    return true;
}

static bool put_text(build_ctx *c, const char *path, const char *text)
{
    return put(c, path, (const uint8_t *)text, strlen(text), 0644);
}

/* Writes plist p (consumed) as XML at path; its bytes are also appended to keep (may be NULL). */
static bool put_plist(build_ctx *c, const char *path, plist_t p, sh_bytebuf *keep)
{
    sh_bytebuf b;
    sh_bytebuf_init(&b, c->alloc);
    bool ok = sh_fx_plist_xml(p, &b);
    plist_free(p);
    ok = ok && put(c, path, b.data, b.len, 0644) && (!keep || sh_bytebuf_append(keep, b.data, b.len));
    sh_bytebuf_free(&b);
    return ok || failf(c, "%s: cannot build the property list", path);
}

/* ---- executables ---- */

static bool put_executable(build_ctx *c, const char *path, const char *identifier,
                           uint64_t text_size)
{
    sh_synth_spec specs[2];
    size_t n = 0;
    const sh_synth_arch archs[2] = {SH_SYNTH_ARM64, SH_SYNTH_X86_64};
    const unsigned bits[2] = {SH_FX_ARCH_ARM64, SH_FX_ARCH_X86_64};
    for (size_t i = 0; i < 2; i++) {
        if (!(c->s->archs & bits[i]))
            continue;
        /* Linker-signed ad hoc, as ld64 leaves an arm64 binary; the bundle signer replaces it. */
        sh_synth_spec_init(&specs[n], archs[i], identifier);
        specs[n].text_size = text_size;
        specs[n].seed = fnv1a(identifier) + i;
        n++;
    }
    sh_bytebuf b;
    sh_bytebuf_init(&b, c->alloc);
    sh_write_error we = {0};
    sh_write_status st = n == 1 ? sh_synth_thin(&specs[0], &b, NULL, &we)
                                : sh_synth_fat(specs, n, &b, NULL, &we);
    bool ok = st == SH_W_OK && put(c, path, b.data, b.len, 0755);
    sh_bytebuf_free(&b);
    if (st != SH_W_OK)
        return failf(c, "%s: synthesising failed: %s (%s)", path, sh_write_status_name(st),
                     we.what ? we.what : "?");
    return ok;
}

/* ---- resources ---- */

/* An .icns container ("icns", total length, one "ic07" element) of deterministic bytes: only
 * its presence and seal matter to code signing. */
static bool put_icon(build_ctx *c, const char *path)
{
    uint8_t icon[16 + ICON_BYTES];
    sh_bytebuf b;
    sh_bytebuf_init_fixed(&b, icon, sizeof icon);
    sh_bytebuf_append(&b, "icns", 4);
    sh_bytebuf_u32be(&b, (uint32_t)sizeof icon);
    sh_bytebuf_append(&b, "ic07", 4);
    sh_bytebuf_u32be(&b, 8 + ICON_BYTES);
    uint64_t x = fnv1a(c->s->app_id) | 1;
    for (size_t i = 0; i < ICON_BYTES; i++) {
        x ^= x << 13; /* xorshift64 */
        x ^= x >> 7;
        x ^= x << 17;
        sh_bytebuf_u8(&b, (uint8_t)x);
    }
    return sh_bytebuf_ok(&b) && put(c, path, icon, sizeof icon, 0644);
}

static bool put_app_resources(build_ctx *c)
{
    static const char storyboard_info[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        "<plist version=\"1.0\">\n<dict>\n\t<key>NSStoryboardMainMenu</key>\n"
        "\t<string>MainMenu</string>\n\t<key>NSStoryboardVersion</key>\n"
        "\t<integer>1</integer>\n</dict>\n</plist>\n";
    static const uint8_t nib[] = {'N', 'I', 'B', 'A', 'r', 'c', 'h', 'i', 'v', 'e',
                                  1, 0, 0, 0, 9, 0, 0, 0};
    return put_icon(c, "Contents/Resources/AppIcon.icns") &&
           put_text(c, "Contents/Resources/Base.lproj/Main.storyboardc/Info.plist",
                    storyboard_info) &&
           put(c, "Contents/Resources/Base.lproj/Main.storyboardc/MainMenu.nib", nib, sizeof nib,
               0644);
}

/* ---- profiles and signing ---- */

static bool make_profile(build_ctx *c, fx_code code, plist_t entitlements, sh_bytebuf *out)
{
    const sh_fx_bundle *s = c->s;
    bool devid = s->variant == SH_FX_DEVELOPER_ID;
    const char *id = code == FX_APP ? s->app_id : s->extension_id;
    char name[SH_FX_ID_SIZE + 32], app_id_name[SH_FX_ID_SIZE + 8];
    snprintf(name, sizeof name, "%s %s", id, devid ? "Developer ID" : "Development");
    snprintf(app_id_name, sizeof app_id_name, "SH %s", id);
    const char *devices[1] = {SH_FX_DEVICE_UDID};
    X509 *certs[1] = {c->identity->leaf};
    sh_pw_spec p = {
        .kind = devid ? SH_PW_DEVELOPER_ID : SH_PW_DEVELOPMENT,
        .name = name,
        .app_id_name = app_id_name,
        .team_id = sh_fx_team_id(s->team),
        .team_name = s->team == 2 ? "Sigharness Test Two" : "Sigharness Test One",
        .creation_date = SH_FX_PROFILE_CREATED,
        .expiration_date = devid ? SH_FX_PROFILE_EXPIRES_DEVID : SH_FX_PROFILE_EXPIRES_DEV,
        .xcode_managed = !devid, /* Xcode manages development profiles; Developer ID ones are
                                    made on the portal */
        .devices = devices,
        .ndevices = devid ? 0 : 1,
        .certificates = certs,
        .ncertificates = 1,
        .entitlements = entitlements,
        .signer = c->profile_signer,
    };
    sh_write_error we = {0};
    sh_write_status st = sh_pw_write(&p, out, &we);
    if (st != SH_W_OK)
        return failf(c, "%s profile: %s (%s)", id, sh_write_status_name(st), we.what ? we.what : "?");
    return true;
}

/* Signs the bundle at root with its entitlements and profile. */
static bool sign_code(build_ctx *c, const char *root, fx_code code)
{
    plist_t ents = sh_fx_entitlements(c->s, code);
    sh_bytebuf xml, profile;
    sh_bytebuf_init(&xml, c->alloc);
    sh_bytebuf_init(&profile, c->alloc);
    bool ok = ents && sh_fx_plist_xml(ents, &xml);
    if (!ok)
        failf(c, "%s: cannot build the entitlements", root[0] ? root : "app");
    ok = ok && make_profile(c, code, ents, &profile);
    plist_free(ents);
    if (ok) {
        sh_bundle_sign_options o;
        sh_bundle_sign_options_init(&o);
        o.code.identifier = NULL; /* CFBundleIdentifier */
        o.code.identity = c->identity;
        o.code.tsa = c->s->timestamp ? c->tsa : NULL;
        o.code.entitlements = xml.data;
        o.code.entitlements_len = xml.len;
        o.code.runtime = c->s->runtime;
        o.code.force = true; /* replaces the linker's ad-hoc signature */
        o.code.signing_time = SH_FX_SIGNING_TIME;
        o.profile = profile.data;
        o.profile_len = profile.len;
        sh_sign_result r = {0};
        if (sh_sign_bundle(&c->out->bundle, root, &o, &r) != SH_SIGN_OK)
            ok = failf(c, "signing %s: %s", root[0] ? root : "the app", r.message);
    }
    sh_bytebuf_free(&xml);
    sh_bytebuf_free(&profile);
    return ok;
}

/* ---- cdhashes ---- */

static bool collect_cdhashes(build_ctx *c, const char *exe_path, const char *code)
{
    const sh_bundle_entry *e = sh_bundle_find(&c->out->bundle, exe_path);
    if (!e || e->kind != SH_BUNDLE_FILE)
        return failf(c, "%s: missing after signing", exe_path);
    sh_macho_file f;
    sh_error err = {0};
    if (sh_macho_parse(e->data, e->len, c->alloc, &f, &err) != SH_E_OK)
        return failf(c, "%s: %s", exe_path, sh_err_message(err.code));
    bool ok = true;
    for (uint32_t i = 0; ok && i < f.nslices; i++) {
        sh_cursor sig;
        sh_signature parsed;
        if (c->out->ncdhashes == SH_FX_MAX_CDHASHES ||
            sh_macho_signature(&f.slices[i], &sig, &err) != SH_E_OK ||
            sh_signature_parse(&sig, &parsed, &err) != SH_E_OK) {
            ok = failf(c, "%s: slice %u has no readable signature", exe_path, i);
            break;
        }
        sh_fx_cdhash *h = &c->out->cdhashes[c->out->ncdhashes++];
        h->code = code;
        h->arch = sh_macho_cpu_name(f.slices[i].cputype, f.slices[i].cpusubtype);
        memcpy(h->cdhash, parsed.cds[0].cdhash, sizeof h->cdhash);
    }
    sh_macho_free(&f);
    return ok;
}

void sh_fx_cdhash_hex(const uint8_t cdhash[20], char *out)
{
    for (size_t i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", cdhash[i]);
}

/* ---- the bundle ---- */

static void describe(build_ctx *c)
{
    const sh_fx_bundle *s = c->s;
    sh_fx_built *o = c->out;
    if (s->description[0]) {
        snprintf(o->description, sizeof o->description, "%s", s->description);
        return;
    }
    bool devid = s->variant == SH_FX_DEVELOPER_ID;
    snprintf(o->description, sizeof o->description,
             "%s%s%s system extension in %s.app; %s identity %s, %s, %s; %s profiles%s%s",
             sh_fx_category_name(s->category), s->provider ? " " : "",
             sh_fx_provider_name(s->provider), s->app_name,
             devid ? "Developer ID" : "Apple Development", s->identity,
             s->timestamp ? "timestamped" : "no secure timestamp",
             s->runtime ? "hardened runtime" : "no hardened runtime",
             devid ? "Developer ID" : "Development", s->notarized ? "; notarised" : "",
             s->get_task_allow ? "; get-task-allow" : "");
}

static bool load_pki(build_ctx *c, const char *dir)
{
    char why[SH_PKI_WHY_MAX];
    if (!sh_pki_load_identity(dir, c->s->identity, &c->own_identity, why, sizeof why))
        return failf(c, "identity %s: %s", c->s->identity, why);
    c->identity = &c->own_identity;
    if (!sh_pki_load_identity(dir, "profile-signer", &c->own_profile_signer, why, sizeof why))
        return failf(c, "profile-signer: %s", why);
    c->profile_signer = &c->own_profile_signer;
    if (c->s->timestamp && !sh_pki_load_tsa(dir, &c->own_tsa, why, sizeof why))
        return failf(c, "timestamp authority: %s", why);
    c->tsa = &c->own_tsa;
    return true;
}

static bool find_pki(build_ctx *c, const sh_pki_keyring *keys)
{
    c->identity = sh_pki_keyring_find(keys, c->s->identity);
    c->profile_signer = sh_pki_keyring_find(keys, "profile-signer");
    c->tsa = &keys->tsa;
    if (!c->identity)
        return failf(c, "identity %s: not in the test PKI", c->s->identity);
    return c->profile_signer || failf(c, "profile-signer: not in the test PKI");
}

static bool build_all(build_ctx *c)
{
    const sh_fx_bundle *s = c->s;
    sh_fx_built *o = c->out;
    bool dext = s->category == SH_FX_DRIVER;
    char p[SH_FX_PATH_SIZE + 64], ext_exe[2 * SH_FX_PATH_SIZE], app_exe[SH_FX_PATH_SIZE];
    snprintf(o->app_dir, sizeof o->app_dir, "%s.app", s->app_name);
    snprintf(o->extension_root, sizeof o->extension_root,
             "Contents/Library/SystemExtensions/%s.%s", s->extension_id,
             dext ? "dext" : "systemextension");
    snprintf(ext_exe, sizeof ext_exe, "%s/Contents/MacOS/%s", o->extension_root,
             sh_fx_extension_exe(s));
    snprintf(app_exe, sizeof app_exe, "Contents/MacOS/%s", s->app_name);

    snprintf(p, sizeof p, "%s/Contents/Info.plist", o->extension_root);
    if (!put_plist(c, p, sh_fx_info_plist(s, FX_EXTENSION), NULL) ||
        !put_executable(c, ext_exe, s->extension_id, EXTENSION_TEXT_SIZE) ||
        !sign_code(c, o->extension_root, FX_EXTENSION))
        return false;

    if (!put_plist(c, "Contents/Info.plist", sh_fx_info_plist(s, FX_APP), NULL) ||
        !put_text(c, "Contents/PkgInfo", "APPL????") ||
        !put_executable(c, app_exe, s->app_id, APP_TEXT_SIZE) || !put_app_resources(c) ||
        !sign_code(c, "", FX_APP))
        return false;

    if (!collect_cdhashes(c, ext_exe, "extension") || !collect_cdhashes(c, app_exe, "app"))
        return false;
    describe(c);
    return true;
}

static bool build(const sh_fx_bundle *spec, const char *pki_dir, const sh_pki_keyring *keys,
                  const sh_allocator *alloc, sh_fx_built *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    sh_bundle_init(&out->bundle, alloc);
    build_ctx c = {.s = spec, .alloc = alloc, .out = out, .why = why, .why_size = why_size};
    if (why && why_size)
        why[0] = '\0';
    bool ok = (keys ? find_pki(&c, keys) : load_pki(&c, pki_dir)) && build_all(&c);
    sh_pki_identity_free(&c.own_identity);
    sh_pki_identity_free(&c.own_profile_signer);
    sh_pki_tsa_free(&c.own_tsa);
    if (!ok) {
        sh_fx_built_free(out);
        sh_bundle_init(&out->bundle, alloc);
    }
    return ok;
}

bool sh_fx_build(const sh_fx_bundle *spec, const char *pki_dir, const sh_allocator *alloc,
                 sh_fx_built *out, char *why, size_t why_size)
{
    return build(spec, pki_dir, NULL, alloc, out, why, why_size);
}

bool sh_fx_build_keyed(const sh_fx_bundle *spec, const sh_pki_keyring *keys,
                       const sh_allocator *alloc, sh_fx_built *out, char *why, size_t why_size)
{
    return build(spec, NULL, keys, alloc, out, why, why_size);
}

void sh_fx_built_free(sh_fx_built *b)
{
    sh_bundle_free(&b->bundle);
    b->ncdhashes = 0;
}
