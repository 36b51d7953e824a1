/* An embedded signature on its own: SuperBlob index, per-slot blob magics, every
 * CodeDirectory, alternates and special-slot hashes. */
#include <stdint.h>
#include <stdio.h>

#include "signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_error err = {0};
    sh_superblob sb;
    if (sh_superblob_parse(&c, 0, &sb, &err) == SH_E_OK) {
        for (uint32_t i = 0; i < sb.count; i++) {
            volatile const char *sink = sh_slot_name(sb.entries[i].type);
            sink = sh_blob_magic_name(sb.entries[i].magic);
            (void)sink;
        }
    }
    sh_signature sig;
    if (sh_signature_parse(&c, &sig, &err) == SH_E_OK)
        sh_signature_check_special_slots(&sig, &err);
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
