/* A notarised-cdhash list (`verify --notarized FILE`): parse, then look up a few cdhashes. */
#include <stdint.h>
#include <string.h>

#include "notary_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_notary_list list;
    sh_error err = {0};
    if (sh_notary_list_parse(data, size, NULL, &list, &err) == SH_E_OK) {
        uint8_t probe[SH_CDHASH_LEN] = {0};
        sh_notary_list_contains(&list, probe);
        if (size >= SH_CDHASH_LEN) {
            memcpy(probe, data, SH_CDHASH_LEN);
            sh_notary_list_contains(&list, probe);
        }
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    sh_notary_list_free(&list);
    return 0;
}
