#include "json.h"

#include <inttypes.h>
#include <string.h>

void sh_json_init(sh_json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->need_comma[0] = false;
    j->after_key = false;
}

/* Writes the separator a new value needs: nothing after a key, a comma between siblings. */
static void begin_value(sh_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        fputc(',', j->out);
    j->need_comma[j->depth] = true;
}

static void open_container(sh_json *j, char c)
{
    begin_value(j);
    fputc(c, j->out);
    if (j->depth + 1 < SH_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_container(sh_json *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    fputc(c, j->out);
}

void sh_json_object_begin(sh_json *j) { open_container(j, '{'); }
void sh_json_object_end(sh_json *j) { close_container(j, '}'); }
void sh_json_array_begin(sh_json *j) { open_container(j, '['); }
void sh_json_array_end(sh_json *j) { close_container(j, ']'); }

static void write_escaped(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

void sh_json_key(sh_json *j, const char *key)
{
    begin_value(j);
    write_escaped(j->out, key, strlen(key));
    fputc(':', j->out);
    j->after_key = true;
}

void sh_json_string_n(sh_json *j, const char *s, size_t len)
{
    begin_value(j);
    write_escaped(j->out, s, len);
}

void sh_json_string(sh_json *j, const char *s)
{
    if (!s) {
        sh_json_null(j);
        return;
    }
    sh_json_string_n(j, s, strlen(s));
}

void sh_json_int(sh_json *j, int64_t v)
{
    begin_value(j);
    fprintf(j->out, "%" PRId64, v);
}

void sh_json_uint(sh_json *j, uint64_t v)
{
    begin_value(j);
    fprintf(j->out, "%" PRIu64, v);
}

void sh_json_bool(sh_json *j, bool v)
{
    begin_value(j);
    fputs(v ? "true" : "false", j->out);
}

void sh_json_null(sh_json *j)
{
    begin_value(j);
    fputs("null", j->out);
}

void sh_json_hex(sh_json *j, const uint8_t *bytes, size_t len)
{
    begin_value(j);
    fputc('"', j->out);
    for (size_t i = 0; i < len; i++)
        fprintf(j->out, "%02x", bytes[i]);
    fputc('"', j->out);
}

void sh_json_kv_string(sh_json *j, const char *key, const char *s)
{
    sh_json_key(j, key);
    sh_json_string(j, s);
}

void sh_json_kv_int(sh_json *j, const char *key, int64_t v)
{
    sh_json_key(j, key);
    sh_json_int(j, v);
}

void sh_json_kv_uint(sh_json *j, const char *key, uint64_t v)
{
    sh_json_key(j, key);
    sh_json_uint(j, v);
}

void sh_json_kv_bool(sh_json *j, const char *key, bool v)
{
    sh_json_key(j, key);
    sh_json_bool(j, v);
}

void sh_json_kv_hex32(sh_json *j, const char *key, uint32_t v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "0x%" PRIx32, v);
    sh_json_kv_string(j, key, buf);
}
