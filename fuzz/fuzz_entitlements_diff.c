/* Differential: one input holds an XML entitlements plist, a NUL byte, then DER entitlements
 * (the two special slots of one signature).  Both sides go through their round trips (XML ->
 * tree -> DER -> tree equal; DER -> tree -> DER -> tree equal, byte-identical for the current
 * form) and, when both decode, through the XML-vs-DER equivalence check with its report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entitlements.h"

/* Encode, decode, compare; traps on any disagreement. */
static void reencode(const sh_entitlements *e, const uint8_t *orig, size_t orig_len)
{
    sh_error err = {0};
    sh_ent_path path;
    uint8_t *der = NULL;
    size_t len = 0;
    sh_err r = sh_entitlements_encode_der(&e->root, NULL, &der, &len, &path, &err);
    if (r != SH_E_OK) {
        /* only what Apple cannot encode, or XML past the DER limits, may be refused */
        if (r != SH_E_ENT_DER_UNENCODABLE && r != SH_E_ENT_DER_TOO_DEEP &&
            r != SH_E_ENT_DER_TOO_MANY_ITEMS)
            __builtin_trap();
        if (e->form == SH_ENT_FORM_DER ||
            (e->form == SH_ENT_FORM_DER_LEGACY && r != SH_E_ENT_DER_UNENCODABLE))
            __builtin_trap();
        return;
    }
    if (orig && e->form == SH_ENT_FORM_DER && (len != orig_len || memcmp(der, orig, len) != 0))
        __builtin_trap();
    sh_cursor c = sh_cursor_make(der, len);
    sh_entitlements back;
    if (sh_entitlements_parse_der(&c, NULL, &back, &path, &err) != SH_E_OK)
        __builtin_trap();
    if (sh_entitlements_compare(&e->root, &back.root, NULL, &err) != SH_E_OK)
        __builtin_trap();
    /* and the encoding is a fixed point */
    uint8_t *again = NULL;
    size_t again_len = 0;
    if (sh_entitlements_encode_der(&back.root, NULL, &again, &again_len, &path, &err) != SH_E_OK ||
        again_len != len || memcmp(again, der, len) != 0)
        __builtin_trap();
    free(again);
    sh_entitlements_free(&back);
    free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t xml_len = nul ? (size_t)(nul - data) : size;
    sh_cursor all = sh_cursor_make(data, size), xc, dc = {0};
    sh_cursor_sub(&all, 0, xml_len, &xc);
    if (nul)
        sh_cursor_tail(&all, xml_len + 1, &dc);

    sh_error err = {0};
    sh_ent_path path;
    sh_entitlements x, d;
    bool have_x = sh_entitlements_parse_xml(&xc, NULL, &x, &path, &err) == SH_E_OK;
    bool have_d = nul && sh_entitlements_parse_der(&dc, NULL, &d, &path, &err) == SH_E_OK;
    if (have_x)
        reencode(&x, NULL, 0);
    if (have_d)
        reencode(&d, nul + 1, size - xml_len - 1);
    if (have_x && have_d) {
        sh_ent_diff diff;
        sh_err r = sh_entitlements_compare(&x.root, &d.root, &diff, &err);
        char text[512];
        sh_ent_diff_format(&diff, "XML", "DER", text, sizeof text);
        /* symmetric: the same verdict the other way round */
        sh_ent_diff back;
        if ((sh_entitlements_compare(&d.root, &x.root, &back, &err) == SH_E_OK) != (r == SH_E_OK))
            __builtin_trap();
        if (r != SH_E_OK && strcmp(diff.path.text, back.path.text) != 0)
            __builtin_trap(); /* the first difference is the same one either way */
    }
    if (have_x)
        sh_entitlements_free(&x);
    if (have_d)
        sh_entitlements_free(&d);
    return 0;
}
