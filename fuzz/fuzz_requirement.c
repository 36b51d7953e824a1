/* Code requirements, both directions:
 *  - the input as a Requirement blob or requirement set: validate, decode in Apple's and the
 *    lossless style, into an allocated string and into a small caller buffer, parse the set index;
 *  - the input as requirement text: compile it in every mode and decode what compiles. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "requirement.h"

static void decode_all(const sh_cursor *c)
{
    sh_error err = {0};
    sh_req_info info;
    sh_req_check(c, &info, &err);
    for (unsigned flags = 0; flags <= SH_REQ_TEXT_LOSSLESS; flags++) {
        char *text = NULL;
        size_t len = 0;
        if (sh_req_to_text_alloc(c, flags, NULL, &text, &len, &info, &err) == SH_E_OK)
            free(text);
    }
    char small[64];
    size_t len;
    sh_req_to_text(c, 0, small, sizeof small, &len, NULL, &err);
    sh_reqset set;
    if (sh_reqset_parse(c, &set, &err) == SH_E_OK)
        for (uint32_t i = 0; i < set.count; i++)
            sh_reqset_find(&set, set.entries[i].type);
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    decode_all(&c);

    static const sh_req_parse_mode modes[] = {SH_REQ_PARSE_AUTO, SH_REQ_PARSE_SINGLE,
                                              SH_REQ_PARSE_SET};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        sh_req_diag diag;
        sh_error err = {0};
        if (sh_req_compile((const char *)data, size, modes[m], NULL, &blob, &blob_len, &diag,
                           &err) != SH_E_OK)
            continue;
        sh_cursor b = sh_cursor_make(blob, blob_len);
        decode_all(&b);
        free(blob);
    }
    return 0;
}
