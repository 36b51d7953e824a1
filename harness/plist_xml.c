#include "plist_xml.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

/* Seconds between the Unix epoch and Apple's reference date 2001-01-01T00:00:00Z. */
#define APPLE_EPOCH_OFFSET 978307200.0

static void indent(FILE *out, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        fputc('\t', out);
}

static void write_escaped(FILE *out, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        default: fputc(s[i], out);
        }
    }
}

static void write_base64(FILE *out, const uint8_t *b, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < len)
            v |= b[i + 2];
        fputc(alphabet[(v >> 18) & 63], out);
        fputc(alphabet[(v >> 12) & 63], out);
        fputc(i + 1 < len ? alphabet[(v >> 6) & 63] : '=', out);
        fputc(i + 2 < len ? alphabet[v & 63] : '=', out);
    }
}

static void write_date(FILE *out, double apple_seconds)
{
    time_t t = (time_t)(apple_seconds + APPLE_EPOCH_OFFSET);
    struct tm tm;
    char buf[32];
    if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        fputs(buf, out);
}

static void write_value(const sh_ent_node *n, unsigned depth, FILE *out);

static void write_dict(const sh_ent_node *n, unsigned depth, FILE *out)
{
    if (n->count == 0) {
        fputs("<dict/>\n", out);
        return;
    }
    fputs("<dict>\n", out);
    for (size_t i = 0; i < n->count; i++) {
        indent(out, depth + 1);
        fputs("<key>", out);
        write_escaped(out, (const uint8_t *)n->keys[i].str, n->keys[i].len);
        fputs("</key>\n", out);
        indent(out, depth + 1);
        write_value(&n->items[i], depth + 1, out);
    }
    indent(out, depth);
    fputs("</dict>\n", out);
}

static void write_array(const sh_ent_node *n, unsigned depth, FILE *out)
{
    if (n->count == 0) {
        fputs("<array/>\n", out);
        return;
    }
    fputs("<array>\n", out);
    for (size_t i = 0; i < n->count; i++) {
        indent(out, depth + 1);
        write_value(&n->items[i], depth + 1, out);
    }
    indent(out, depth);
    fputs("</array>\n", out);
}

static void write_value(const sh_ent_node *n, unsigned depth, FILE *out)
{
    switch (n->type) {
    case SH_ENT_DICT: write_dict(n, depth, out); return;
    case SH_ENT_ARRAY: write_array(n, depth, out); return;
    case SH_ENT_STRING:
        fputs("<string>", out);
        write_escaped(out, n->bytes, n->len);
        fputs("</string>\n", out);
        return;
    case SH_ENT_BOOL: fputs(n->boolean ? "<true/>\n" : "<false/>\n", out); return;
    case SH_ENT_INT: fprintf(out, "<integer>%" PRId64 "</integer>\n", n->integer); return;
    case SH_ENT_REAL: fprintf(out, "<real>%.17g</real>\n", n->real); return;
    case SH_ENT_DATA:
        fputs("<data>", out);
        write_base64(out, n->bytes, n->len);
        fputs("</data>\n", out);
        return;
    case SH_ENT_DATE:
        fputs("<date>", out);
        write_date(out, n->real);
        fputs("</date>\n", out);
        return;
    }
}

void sh_plist_write_xml(const sh_ent_node *root, FILE *out)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
          "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
          "<plist version=\"1.0\">\n",
          out);
    write_value(root, 0, out);
    fputs("</plist>\n", out);
}

char *sh_plist_xml_string(const sh_ent_node *root)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return NULL;
    sh_plist_write_xml(root, mem);
    if (fclose(mem) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
