#include "errors.h"

#include <inttypes.h>
#include <stdio.h>

static const struct {
    const char *name;
    sh_errsec status;
    const char *message;
} table[SH_E_COUNT] = {
#define X(name, errsec, msg) {#name, errsec, msg},
#include "errors.def"
#undef X
};

static const struct {
    int status;
    const char *name;
} errsec_table[] = {
#define X(name, value) {value, #name},
#include "errsec.def"
#undef X
};

const char *sh_err_name(sh_err e)
{
    return (unsigned)e < SH_E_COUNT ? table[e].name : "UNKNOWN";
}

const char *sh_err_message(sh_err e)
{
    return (unsigned)e < SH_E_COUNT ? table[e].message : "unknown error";
}

sh_errsec sh_err_errsec(sh_err e)
{
    return (unsigned)e < SH_E_COUNT ? table[e].status : errSecCSInternalError;
}

const char *sh_errsec_name(int status)
{
    for (size_t i = 0; i < sizeof errsec_table / sizeof errsec_table[0]; i++)
        if (errsec_table[i].status == status)
            return errsec_table[i].name;
    return NULL;
}

sh_err sh_fail_value(sh_error *err, sh_err code, const char *where, int64_t index,
                     uint64_t offset, uint64_t value)
{
    if (err) {
        err->code = code;
        err->where = where;
        err->index = index;
        err->offset = offset;
        err->value = value;
        err->has_value = 1;
    }
    return code;
}

sh_err sh_fail(sh_error *err, sh_err code, const char *where, int64_t index, uint64_t offset)
{
    sh_fail_value(err, code, where, index, offset, 0);
    if (err)
        err->has_value = 0;
    return code;
}

int sh_error_format(const sh_error *err, char *buf, size_t size)
{
    const char *where = err->where ? err->where : "input";
    char index[32] = "";
    char value[48] = "";
    if (err->index >= 0)
        snprintf(index, sizeof index, " #%" PRId64, err->index);
    if (err->has_value)
        snprintf(value, sizeof value, ", value 0x%" PRIx64, err->value);
    return snprintf(buf, size, "%s (%s%s at offset 0x%" PRIx64 "%s)", sh_err_message(err->code),
                    where, index, err->offset, value);
}
