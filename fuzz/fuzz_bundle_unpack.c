/* The packed bundle form: unpack; an accepted input must pack back to the same bytes (the format
 * has one encoding per bundle), and every symlink in it must resolve or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_bundle b;
    sh_error err = {0};
    if (sh_bundle_unpack(data, size, NULL, &b, &err) != SH_E_OK)
        return 0;
    uint8_t *packed;
    size_t len;
    if (sh_bundle_pack(&b, &packed, &len, &err) != SH_E_OK || len != size ||
        memcmp(packed, data, size) != 0)
        abort(); /* the fuzz oracle: a round-trip mismatch is a bug in pack or unpack */
    sh_free(NULL, packed);
    for (size_t i = 0; i < b.count; i++) {
        const sh_bundle_entry *out;
        if (b.entries[i].kind == SH_BUNDLE_SYMLINK &&
            sh_bundle_resolve(&b, b.entries[i].path, &out, &err) == SH_E_OK &&
            (!out || out->kind == SH_BUNDLE_SYMLINK))
            abort(); /* resolve promised a final entry that is not a symlink */
    }
    sh_bundle_free(&b);
    return 0;
}
