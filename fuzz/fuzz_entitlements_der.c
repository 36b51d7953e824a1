/* DER entitlements (current 0x70 form and legacy SET form), as a bare payload and as a
 * 0xfade7172 blob.
 *
 * Oracles: the strict decoder accepts exactly one encoding per tree in the current form, so
 * decode -> encode gives the input back byte for byte; any tree it decodes (either form) encodes
 * to DER that decodes to an equal tree, unless it holds data (legacy OCTET STRING), which the
 * encoder must refuse with ENT_DER_UNENCODABLE. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entitlements.h"

static void round_trip(const sh_entitlements *e, const uint8_t *data, size_t size)
{
    sh_error err = {0};
    sh_ent_path path;
    uint8_t *der = NULL;
    size_t len = 0;
    sh_err r = sh_entitlements_encode_der(&e->root, NULL, &der, &len, &path, &err);
    if (r != SH_E_OK) {
        if (r != SH_E_ENT_DER_UNENCODABLE || e->form != SH_ENT_FORM_DER_LEGACY)
            __builtin_trap();
        return;
    }
    if (e->form == SH_ENT_FORM_DER && (len != size || memcmp(der, data, size) != 0))
        __builtin_trap(); /* two encodings of one tree were accepted */
    sh_cursor c = sh_cursor_make(der, len);
    sh_entitlements back;
    if (sh_entitlements_parse_der(&c, NULL, &back, &path, &err) != SH_E_OK)
        __builtin_trap();
    sh_ent_diff diff;
    if (sh_entitlements_compare(&e->root, &back.root, &diff, &err) != SH_E_OK)
        __builtin_trap();
    sh_entitlements_free(&back);
    free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_error err = {0};
    sh_ent_path path;
    sh_entitlements e;
    if (sh_entitlements_parse_der(&c, NULL, &e, &path, &err) == SH_E_OK) {
        round_trip(&e, data, size);
        sh_entitlements_free(&e);
    }
    if (sh_entitlements_parse_der_blob(&c, NULL, &e, &path, &err) == SH_E_OK)
        sh_entitlements_free(&e);
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
