/* Round-trip invariants of the requirement decoder and compiler.  Traps (a bug to fix) when:
 *  - a blob decodes but its lossless text does not compile, or compiles to other bytes or back
 *    to another text (for a set whose layout is not the one Apple's maker writes: the recompiled,
 *    canonical set must compile from its own text to itself);
 *  - text compiles but the lossless text of the result does not compile back to the same bytes.
 * Inputs starting with a requirement magic are blobs; anything else is text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "requirement.h"

static char *lossless_text(const uint8_t *blob, size_t len, sh_req_info *info)
{
    sh_cursor c = sh_cursor_make(blob, len);
    sh_error err = {0};
    char *text = NULL;
    size_t text_len;
    if (sh_req_to_text_alloc(&c, SH_REQ_TEXT_LOSSLESS, NULL, &text, &text_len, info, &err) !=
        SH_E_OK)
        return NULL;
    return text;
}

static uint8_t *compile(const char *text, sh_req_parse_mode mode, size_t *len)
{
    uint8_t *blob = NULL;
    sh_error err = {0};
    if (sh_req_compile(text, strlen(text), mode, NULL, &blob, len, NULL, &err) != SH_E_OK)
        return NULL;
    return blob;
}

static void blob_round_trip(const uint8_t *data, size_t size, uint32_t magic)
{
    sh_req_info info;
    char *text = lossless_text(data, size, &info);
    if (!text)
        return;
    sh_req_parse_mode mode = magic == SH_REQSET_MAGIC ? SH_REQ_PARSE_SET : SH_REQ_PARSE_SINGLE;
    size_t len = 0;
    uint8_t *again = compile(text, mode, &len);
    if (!again)
        __builtin_trap(); /* decodable text must compile */
    sh_req_info info2;
    char *text2 = lossless_text(again, len, &info2);
    if (!text2)
        __builtin_trap(); /* what compiles must decode */
    if (info.layout == 0) {
        if (len != info.length || memcmp(again, data, len) != 0)
            __builtin_trap(); /* other bytes */
        if (strcmp(text, text2) != 0)
            __builtin_trap(); /* other text */
    } else { /* entries re-sorted and packed: the recompiled set must be a fixed point */
        size_t len3 = 0;
        uint8_t *third = compile(text2, mode, &len3);
        if (!third || len3 != len || memcmp(third, again, len) != 0)
            __builtin_trap();
        free(third);
    }
    free(text2);
    free(again);
    free(text);
}

static void text_round_trip(const uint8_t *data, size_t size)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    sh_error err = {0};
    if (sh_req_compile((const char *)data, size, SH_REQ_PARSE_AUTO, NULL, &blob, &len, NULL,
                       &err) != SH_E_OK)
        return;
    sh_req_info info;
    char *text = lossless_text(blob, len, &info);
    if (!text)
        __builtin_trap(); /* what compiles must decode */
    sh_req_parse_mode mode =
        info.magic == SH_REQSET_MAGIC ? SH_REQ_PARSE_SET : SH_REQ_PARSE_SINGLE;
    size_t len2 = 0;
    uint8_t *again = compile(text, mode, &len2);
    if (!again || len2 != len || memcmp(again, blob, len) != 0)
        __builtin_trap();
    free(again);
    free(text);
    free(blob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    uint32_t magic = 0;
    sh_cursor_u32be_at(&c, 0, &magic);
    if (magic == SH_REQ_MAGIC || magic == SH_REQSET_MAGIC)
        blob_round_trip(data, size, magic);
    else
        text_round_trip(data, size);
    return 0;
}
