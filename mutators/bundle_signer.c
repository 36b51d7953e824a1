/* sh_sign_bundle: one bundle of an sh_bundle, in codesign's order (see bundle_signer.h).  The
 * work happens on a copy that replaces the bundle only when every step succeeded. */
#include "bundle_signer_internal.h"

#include <string.h>

#include "signer_internal.h"

void sh_bundle_sign_options_init(sh_bundle_sign_options *o)
{
    memset(o, 0, sizeof *o);
    sh_sign_options_init(&o->code, NULL);
}

static sh_sign_status bundle_fail(sh_sign_result *r, const char *what, const sh_error *err)
{
    char msg[200];
    sh_error_format(err, msg, sizeof msg);
    return sh_sign_fail(r, err->code == SH_E_NO_MEMORY ? SH_SIGN_FAILED : SH_SIGN_MALFORMED,
                        "%s: %s", what, msg);
}

static sh_sign_status place_profile(sh_bundle *w, const char *root,
                                    const sh_bundle_sign_options *o, sh_sign_result *r)
{
    char path[SH_BSIGN_PATH_SIZE];
    sh_error err;
    if (!o->profile)
        return SH_SIGN_OK;
    if (!sh_bsign_join(root, "embedded.provisionprofile", path, sizeof path))
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "bundle path too long: %s", root);
    if (sh_bundle_put_file(w, path, o->profile, o->profile_len, 0644, &err) != SH_E_OK)
        return bundle_fail(r, path, &err);
    return SH_SIGN_OK;
}

/* Seals the resources, then signs the main executable over Info.plist and CodeResources. */
static sh_sign_status seal_and_sign(sh_bundle *w, const char *root,
                                    const sh_bundle_sign_options *o, sh_sign_result *r)
{
    sh_bsign_main m;
    sh_bytebuf resources, exe;
    sh_bytebuf_init(&resources, w->alloc);
    sh_bytebuf_init(&exe, w->alloc);
    char path[SH_BSIGN_PATH_SIZE];
    sh_error err;
    sh_sign_status st = sh_bsign_find_main(w, root, &m, r);
    if (st == SH_SIGN_OK)
        st = sh_bsign_seal(w, root, m.exe_path, o->memo, &resources, r);
    if (st == SH_SIGN_OK) {
        sh_sign_options code = o->code;
        code.identifier = code.identifier ? code.identifier : m.info.identifier;
        code.info_plist = m.plist;
        code.info_plist_len = m.plist_len;
        code.resources = resources.data;
        code.resources_len = resources.len;
        if (!code.identifier)
            st = sh_sign_fail(r, SH_SIGN_MALFORMED,
                              "%s/Contents/Info.plist has no CFBundleIdentifier (give an "
                              "identifier)",
                              root[0] ? root : ".");
        else if ((st = sh_sign_macho(m.exe, m.exe_len, &code, &exe, r)) != SH_SIGN_OK) {
            char msg[sizeof r->message];
            memcpy(msg, r->message, sizeof msg);
            st = sh_sign_fail(r, st, "%s: %s", m.exe_path, msg);
        }
    }
    /* The executable's bytes live in w: write the seal only once they are no longer read. */
    if (st == SH_SIGN_OK && (!sh_bsign_join(root, "_CodeSignature/CodeResources", path,
                                            sizeof path) ||
                             sh_bundle_put_file(w, path, resources.data, resources.len, 0644,
                                                &err) != SH_E_OK))
        st = sh_sign_fail(r, SH_SIGN_FAILED, "cannot add %s/Contents/_CodeSignature/CodeResources",
                          root[0] ? root : ".");
    if (st == SH_SIGN_OK &&
        sh_bundle_put_file(w, m.exe_path, exe.data, exe.len, m.exe_mode, &err) != SH_E_OK)
        st = bundle_fail(r, m.exe_path, &err);
    sh_bsign_main_free(&m);
    sh_bytebuf_free(&resources);
    sh_bytebuf_free(&exe);
    return st;
}

sh_sign_status sh_sign_bundle(sh_bundle *b, const char *root, const sh_bundle_sign_options *o,
                              sh_sign_result *r)
{
    memset(r, 0, sizeof *r);
    if (!root || (root[0] && !sh_bundle_path_valid(root)))
        return sh_sign_fail(r, SH_SIGN_INVALID_ARGUMENT, "bundle root is not a clean path");
    const sh_bundle_entry *dir = root[0] ? sh_bundle_find(b, root) : NULL;
    if (root[0] && (!dir || dir->kind != SH_BUNDLE_DIR))
        return sh_sign_fail(r, SH_SIGN_MALFORMED, "%s is not a directory of the bundle", root);
    sh_bundle work;
    sh_error err;
    if (sh_bundle_clone(b, &work, &err) != SH_E_OK)
        return bundle_fail(r, "copying the bundle", &err);
    sh_sign_status st = place_profile(&work, root, o, r);
    if (st == SH_SIGN_OK)
        st = seal_and_sign(&work, root, o, r);
    if (st == SH_SIGN_OK) { /* commit: the signed copy becomes the bundle */
        sh_bundle old = *b;
        *b = work;
        work = old;
    }
    sh_bundle_free(&work);
    return st;
}
