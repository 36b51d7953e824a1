/* Fixture spec parser (mutators/fixture_spec.c): user-written text.
 *
 * Oracles beyond the sanitizers: a parse either succeeds with 1..SH_MAX_FIXTURE_BUNDLES bundles
 * whose fields are all within their rules (names, enums, team, architectures, distinct app and
 * extension ids), or fails with a FIXTURE_SPEC_* error (or NO_MEMORY) and an empty spec; a
 * failure on a line names a line that exists in the input. */
#include <stdint.h>
#include <string.h>

#include "fixture_spec.h"

static void check_bundle(const sh_fx_bundle *b)
{
    if (b->name[0] == '\0' || strlen(b->name) > SH_MAX_FIXTURE_NAME)
        __builtin_trap();
    if (b->category < SH_FX_NETWORK || b->category > SH_FX_CAMERA)
        __builtin_trap();
    if ((b->category == SH_FX_NETWORK) != (b->provider != SH_FX_PROVIDER_NONE))
        __builtin_trap();
    if (b->variant != SH_FX_DEVELOPER_ID && b->variant != SH_FX_DEVELOPMENT)
        __builtin_trap();
    if (b->team != 1 && b->team != 2)
        __builtin_trap();
    if (b->archs == 0 || (b->archs & ~(SH_FX_ARCH_ARM64 | SH_FX_ARCH_X86_64)) != 0)
        __builtin_trap();
    if (b->app_id[0] == '\0' || b->extension_id[0] == '\0' || b->app_group[0] == '\0' ||
        b->app_name[0] == '\0' || strcmp(b->app_id, b->extension_id) == 0)
        __builtin_trap();
    if (strlen(b->app_id) > SH_MAX_FIXTURE_ID || strlen(b->extension_id) > SH_MAX_FIXTURE_ID ||
        strlen(b->app_group) > SH_MAX_FIXTURE_ID)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_fx_spec spec;
    sh_error err = {0};
    sh_err e = sh_fx_spec_parse(data, size, NULL, &spec, &err);
    if (e == SH_E_OK) {
        if (spec.count == 0 || spec.count > SH_MAX_FIXTURE_BUNDLES)
            __builtin_trap();
        for (size_t i = 0; i < spec.count; i++)
            check_bundle(&spec.bundles[i]);
    } else {
        if (spec.count != 0 || spec.bundles != NULL || err.code != e)
            __builtin_trap();
        size_t newlines = 0;
        for (size_t i = 0; i < size; i++)
            newlines += data[i] == '\n';
        if (err.index > (int64_t)newlines + 1)
            __builtin_trap();
    }
    sh_fx_spec_free(&spec);
    char msg[512];
    sh_fx_error_format(&err, msg, sizeof msg);
    return 0;
}
