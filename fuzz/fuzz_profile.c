/* A provisioning profile file: CMS decode, signature and chain (pinned Apple roots only), the
 * guarded plist, every key, then the checks and both renderings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile.h"

static void exercise(const sh_profile *p)
{
    sh_error err = {0};
    sh_profile_check_expiry(p, 1700000000, &err);
    sh_profile_check_platform(p, "OSX", &err);
    sh_profile_check_device(p, "00008101-001A51411463003A", &err);
    sh_profile_check_app_id(p, "com.example.app", &err);
    sh_profile_check_entitlements(p, &p->entitlements.root, NULL, &err);
    if (p->ncerts > 0) {
        sh_cursor none = sh_cursor_make(p->content, p->content_len);
        sh_profile_check_certificate(p, &none, NULL, &err);
    }
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (out != NULL) {
        sh_profile_write_summary(p, out);
        sh_profile_write_xml(p, out);
        fclose(out);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_profile_options options = {.now = 1700000000};
    sh_profile p;
    sh_error err = {0};
    sh_profile_parse(data, size, NULL, &options, &p, &err);
    if (p.decoded)
        exercise(&p);
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    sh_profile_free(&p);
    return 0;
}
