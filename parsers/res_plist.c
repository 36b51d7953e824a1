/* libplist value helpers for the bundle-resource parsers (res_plist.h). */
#include <string.h>

#include "cursor.h"
#include "plist_guard.h"
#include "res_plist.h"

sh_pv_status sh_pv_bytes(const char *s, size_t n, size_t max, bool allow_empty,
                         const sh_allocator *alloc, char **out)
{
    if (s == NULL || n > max || (n == 0 && !allow_empty) || memchr(s, 0, n) != NULL)
        return SH_PV_BAD;
    sh_cursor view = sh_cursor_make((const uint8_t *)s, n);
    if (!sh_utf8_valid(&view, NULL))
        return SH_PV_BAD;
    if (out == NULL)
        return SH_PV_OK;
    char *copy = sh_calloc(alloc, n + 1, 1); /* n <= max, which callers keep small */
    if (copy == NULL)
        return SH_PV_NO_MEMORY;
    memcpy(copy, s, n);
    *out = copy;
    return SH_PV_OK;
}

sh_pv_status sh_pv_string(plist_t v, size_t max, bool allow_empty, const sh_allocator *alloc,
                          char **out, size_t *len)
{
    if (v == NULL || plist_get_node_type(v) != PLIST_STRING)
        return SH_PV_NOT_STRING;
    uint64_t n = 0;
    const char *s = plist_get_string_ptr(v, &n);
    if (s == NULL || n > max)
        return SH_PV_BAD;
    sh_pv_status st = sh_pv_bytes(s, (size_t)n, max, allow_empty, alloc, out);
    if (st == SH_PV_OK && len != NULL)
        *len = (size_t)n;
    return st;
}

bool sh_pv_bool(plist_t v, bool *out)
{
    if (v == NULL || plist_get_node_type(v) != PLIST_BOOLEAN)
        return false;
    uint8_t b = 0;
    plist_get_bool_val(v, &b);
    *out = b != 0;
    return true;
}
