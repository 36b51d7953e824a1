/* Info.plist: plist_guard + libplist + the bundle keys and system-extension category.
 *
 * Oracles beyond the sanitizers: a single category bit gives a category name; the Mach service
 * name returned belongs to that category; every provider listed is found by id. */
#include <stdint.h>
#include <string.h>

#include "infoplist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_infoplist info;
    sh_error err = {0};
    if (sh_infoplist_parse(&c, NULL, &info, &err) == SH_E_OK) {
        sh_sysext_category cat = sh_infoplist_category(&info);
        if (cat != SH_SYSEXT_NONE && sh_sysext_category_name(cat) == NULL)
            __builtin_trap();
        const char *svc = sh_infoplist_mach_service(&info);
        if (svc != NULL && svc != info.ne_mach_service && svc != info.es_mach_service &&
            svc != info.cmio_mach_service)
            __builtin_trap();
        for (size_t i = 0; i < info.ne_nproviders; i++)
            if (!sh_infoplist_has_provider(&info, info.ne_providers[i].id))
                __builtin_trap();
        sh_infoplist_free(&info);
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
