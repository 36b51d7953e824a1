/* A CodeDirectory blob on its own: every version's header, strings, scatter, hash array, and
 * page verification against the input bytes themselves as the "code". */
#include <stdint.h>
#include <stdio.h>

#include "codedir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_error err = {0};
    sh_codedir cd;
    if (sh_codedir_parse(&c, &cd, &err) == SH_E_OK) {
        sh_cursor h;
        for (uint32_t slot = 1; slot <= cd.n_special_slots; slot++)
            if (sh_codedir_special_present(&cd, slot))
                sh_codedir_special_hash(&cd, slot, &h);
        char flags[256];
        sh_codedir_flags_string(cd.flags, flags, sizeof flags);
        sh_page_report report;
        sh_codedir_verify_pages(&cd, &c, &report, &err);
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
