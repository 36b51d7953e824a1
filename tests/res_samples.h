/* Test helpers for test_coderesources.c and test_infoplist.c: external samples and plist text,
 * each copied into an exactly sized heap buffer so ASan sees any over-read. */
#ifndef SH_TEST_RES_SAMPLES_H
#define SH_TEST_RES_SAMPLES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "sample_path.h"

typedef struct res_bytes {
    uint8_t *data;
    size_t len;
} res_bytes;

static inline res_bytes res_exact(const void *p, size_t n)
{
    res_bytes b = {malloc(n ? n : 1), n};
    if (b.data == NULL)
        abort();
    if (n)
        memcpy(b.data, p, n);
    return b;
}

/* external-samples/<sub>/<name>; data NULL when it cannot be read. */
static inline res_bytes res_load_sample(const char *sub, const char *name)
{
    char path[2048];
    res_bytes out = {NULL, 0};
    if (!sample_path(sub, name, path, sizeof path))
        return out;
    FILE *f = fopen(path, "rb");
    if (!f)
        return out;
    static uint8_t tmp[1 << 20];
    size_t n = fread(tmp, 1, sizeof tmp, f);
    fclose(f);
    return res_exact(tmp, n);
}

/* An XML plist around body. */
static inline res_bytes res_plist(const char *body)
{
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">";
    static const char tail[] = "</plist>\n";
    size_t n = strlen(head) + strlen(body) + strlen(tail);
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    snprintf(s, n + 1, "%s%s%s", head, body, tail);
    res_bytes b = res_exact(s, n);
    free(s);
    return b;
}

static inline sh_cursor res_cursor(const res_bytes *b) { return sh_cursor_make(b->data, b->len); }

#endif
