/* The bounded JSON reader (harness/json_read.h) that `calibrate` reads Mac results with. */
#include <stdint.h>
#include <stdio.h>

#include "json_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_json_doc doc;
    char why[256];
    if (!sh_json_parse(data, size, NULL, &doc, why, sizeof why))
        return 0;
    int64_t exit_status;
    volatile const char *sink = sh_jv_get_string(&doc.root, "schema");
    (void)sink;
    const sh_jv *results = sh_jv_get(&doc.root, "results");
    for (size_t i = 0; results && results->type == SH_JV_ARRAY && i < results->count; i++)
        (void)sh_jv_get_int(&results->items[i], "exit", &exit_status);
    sh_json_doc_free(&doc);
    return 0;
}
