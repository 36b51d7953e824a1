#include "sig_builder.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "sig_builder: %s\n", what);
    abort();
}

void sig_buf_free(sig_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sig_append(sig_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            die("out of memory");
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void sig_append_u8(sig_buf *b, uint8_t v) { sig_append(b, &v, 1); }

void sig_append_u16(sig_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    sig_append(b, x, 2);
}

void sig_append_u32(sig_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    sig_append(b, x, 4);
}

void sig_append_u64(sig_buf *b, uint64_t v)
{
    sig_append_u32(b, (uint32_t)(v >> 32));
    sig_append_u32(b, (uint32_t)v);
}

static void check_range(const sig_buf *b, size_t off, size_t n)
{
    if (off > b->len || n > b->len - off)
        die("patch outside the buffer");
}

void sig_set_u8(sig_buf *b, size_t off, uint8_t v)
{
    check_range(b, off, 1);
    b->data[off] = v;
}

void sig_set_u32(sig_buf *b, size_t off, uint32_t v)
{
    check_range(b, off, 4);
    for (int i = 0; i < 4; i++)
        b->data[off + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
}

void sig_set_u64(sig_buf *b, size_t off, uint64_t v)
{
    sig_set_u32(b, off, (uint32_t)(v >> 32));
    sig_set_u32(b, off + 4, (uint32_t)v);
}

uint32_t sig_get_u32(const sig_buf *b, size_t off)
{
    check_range(b, off, 4);
    return (uint32_t)b->data[off] << 24 | (uint32_t)b->data[off + 1] << 16 |
           (uint32_t)b->data[off + 2] << 8 | b->data[off + 3];
}

uint8_t *sig_exact_copy(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        die("out of memory");
    if (n)
        memcpy(d, p, n);
    return d;
}

size_t sig_hash_size(unsigned type)
{
    switch (type) {
    case 1: return 20;
    case 2: return 32;
    case 3: return 20;
    case 4: return 48;
    default: return 0;
    }
}

size_t sig_digest(unsigned type, const void *p, size_t n, uint8_t out[48])
{
    const EVP_MD *md = type == 1 ? EVP_sha1()
                       : type == 2 || type == 3 ? EVP_sha256()
                       : type == 4 ? EVP_sha384()
                                   : NULL;
    if (!md)
        return 0;
    uint8_t full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(p, n, full, &len, md, NULL))
        die("EVP_Digest failed");
    size_t size = sig_hash_size(type);
    memcpy(out, full, size);
    return size;
}

sig_buf sig_blob(uint32_t magic, const void *payload, size_t n)
{
    sig_buf b = {0};
    sig_append_u32(&b, magic);
    sig_append_u32(&b, (uint32_t)(8 + n));
    sig_append(&b, payload, n);
    return b;
}

size_t sig_cd_header_size(uint32_t version)
{
    if (version < 0x20100)
        return 0x2C;
    if (version < 0x20200)
        return 0x30;
    if (version < 0x20300)
        return 0x34;
    if (version < 0x20400)
        return 0x40;
    if (version < 0x20500)
        return 0x58;
    if (version < 0x20600)
        return 0x60;
    return 0x6C;
}

void sig_cd_defaults(sig_cd_spec *s, uint32_t version, unsigned hash_type, const uint8_t *code,
                     size_t code_len)
{
    memset(s, 0, sizeof *s);
    s->version = version;
    s->hash_type = (uint8_t)hash_type;
    s->hash_size = (uint8_t)sig_hash_size(hash_type);
    s->page_shift = 12;
    s->identifier = "com.example.test";
    s->code = code;
    s->code_len = code_len;
    s->code_limit = (uint32_t)code_len;
}

void sig_cd_seal(sig_cd_spec *s, uint32_t slot, const sig_buf *blob)
{
    if (slot == 0 || slot > SIG_MAX_SPECIAL)
        die("special slot out of range");
    sig_digest(s->hash_type, blob->data, blob->len, s->special[slot]);
    if (s->n_special_slots < slot)
        s->n_special_slots = slot;
}

static uint64_t effective_limit(const sig_cd_spec *s)
{
    if (s->version >= 0x20300 && s->code_limit64)
        return s->code_limit64;
    return s->code_limit;
}

static uint64_t page_count(const sig_cd_spec *s)
{
    uint64_t limit = effective_limit(s);
    if (s->page_shift == 0)
        return limit > 0;
    return limit ? ((limit - 1) >> s->page_shift) + 1 : 0;
}

static void write_header(sig_buf *b, const sig_cd_spec *s, const sig_cd_layout *l)
{
    uint32_t v = s->version;
    sig_append_u32(b, 0xfade0c02);
    sig_append_u32(b, (uint32_t)l->length);
    sig_append_u32(b, v);
    sig_append_u32(b, s->flags);
    sig_append_u32(b, (uint32_t)l->hash_offset);
    sig_append_u32(b, (uint32_t)l->ident_offset);
    sig_append_u32(b, s->n_special_slots);
    sig_append_u32(b, (uint32_t)page_count(s));
    sig_append_u32(b, s->code_limit);
    sig_append_u8(b, s->hash_size);
    sig_append_u8(b, s->hash_type);
    sig_append_u8(b, s->platform);
    sig_append_u8(b, s->page_shift);
    sig_append_u32(b, s->spare2);
    if (v >= 0x20100)
        sig_append_u32(b, (uint32_t)l->scatter_offset);
    if (v >= 0x20200)
        sig_append_u32(b, (uint32_t)l->team_offset);
    if (v >= 0x20300) {
        sig_append_u32(b, s->spare3);
        sig_append_u64(b, s->code_limit64);
    }
    if (v >= 0x20400) {
        sig_append_u64(b, s->exec_seg_base);
        sig_append_u64(b, s->exec_seg_limit);
        sig_append_u64(b, s->exec_seg_flags);
    }
    if (v >= 0x20500) {
        sig_append_u32(b, s->runtime);
        sig_append_u32(b, s->pre_encrypt_offset);
    }
    if (v >= 0x20600) {
        sig_append_u8(b, s->linkage_hash_type);
        sig_append_u8(b, s->linkage_application_type);
        sig_append_u16(b, s->linkage_application_subtype);
        sig_append_u32(b, (uint32_t)l->linkage_offset);
        sig_append_u32(b, (uint32_t)s->linkage_len);
    }
    /* fields of versions this project does not know yet */
    while (b->len < l->header_size)
        sig_append_u8(b, 0xEE);
}

static void write_scatter(sig_buf *b, const sig_cd_spec *s)
{
    for (size_t i = 0; i < s->n_scatter; i++) {
        sig_append_u32(b, s->scatter[i].count);
        sig_append_u32(b, s->scatter[i].base);
        sig_append_u64(b, s->scatter[i].target_offset);
        sig_append_u64(b, s->scatter[i].spare);
    }
    if (!s->scatter_no_terminator) {
        uint8_t zero[24] = {0};
        sig_append(b, zero, sizeof zero);
    }
}

static void write_code_hashes(sig_buf *b, const sig_cd_spec *s)
{
    uint64_t limit = effective_limit(s);
    uint64_t pages = page_count(s);
    uint64_t page_size = s->page_shift ? (uint64_t)1 << s->page_shift : limit;
    if (limit > s->code_len)
        die("code limit past the code given");
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t start = i * page_size;
        uint64_t len = limit - start < page_size ? limit - start : page_size;
        uint8_t h[48];
        sig_digest(s->hash_type, s->code + start, (size_t)len, h);
        sig_append(b, h, s->hash_size);
    }
}

/* Layout: header, scatter vector, identifier, team ID, special hashes (slot n .. 1), code
 * hashes, linkage data: the order codesign uses. */
sig_buf sig_build_cd(const sig_cd_spec *s, sig_cd_layout *layout)
{
    sig_cd_layout l = {0};
    l.header_size = sig_cd_header_size(s->version) + s->unknown_tail_len;
    size_t pos = l.header_size;
    if (s->version >= 0x20100 && (s->scatter || s->scatter_no_terminator)) {
        l.scatter_offset = pos;
        pos += 24 * (s->n_scatter + (s->scatter_no_terminator ? 0 : 1));
    }
    l.ident_offset = pos;
    pos += strlen(s->identifier) + 1;
    if (s->version >= 0x20200 && s->team_id) {
        l.team_offset = pos;
        pos += strlen(s->team_id) + 1;
    }
    l.hash_offset = pos + (size_t)s->n_special_slots * s->hash_size;
    pos = l.hash_offset + (size_t)page_count(s) * s->hash_size;
    if (s->version >= 0x20600 && s->linkage_len) {
        l.linkage_offset = pos;
        pos += s->linkage_len;
    }
    l.length = pos;

    sig_buf b = {0};
    write_header(&b, s, &l);
    if (l.scatter_offset)
        write_scatter(&b, s);
    sig_append(&b, s->identifier, strlen(s->identifier) + 1);
    if (l.team_offset)
        sig_append(&b, s->team_id, strlen(s->team_id) + 1);
    for (uint32_t slot = s->n_special_slots; slot >= 1; slot--) {
        uint8_t zero[48] = {0};
        sig_append(&b, slot <= SIG_MAX_SPECIAL ? s->special[slot] : zero, s->hash_size);
    }
    write_code_hashes(&b, s);
    if (l.linkage_offset)
        sig_append(&b, s->linkage, s->linkage_len);
    if (b.len != l.length)
        die("layout arithmetic");
    if (layout)
        *layout = l;
    return b;
}

sig_buf sig_build_superblob(uint32_t magic, const sig_entry *entries, size_t n, uint32_t *offsets)
{
    size_t total = 12 + 8 * n;
    for (size_t i = 0; i < n; i++)
        total += entries[i].blob ? entries[i].blob->len : 0;
    sig_buf b = {0};
    sig_append_u32(&b, magic);
    sig_append_u32(&b, (uint32_t)total);
    sig_append_u32(&b, (uint32_t)n);
    size_t pos = 12 + 8 * n;
    for (size_t i = 0; i < n; i++) {
        uint32_t off = entries[i].blob ? (uint32_t)pos : 0;
        sig_append_u32(&b, entries[i].type);
        sig_append_u32(&b, off);
        if (offsets)
            offsets[i] = off;
        pos += entries[i].blob ? entries[i].blob->len : 0;
    }
    for (size_t i = 0; i < n; i++)
        if (entries[i].blob)
            sig_append(&b, entries[i].blob->data, entries[i].blob->len);
    return b;
}

void sig_fill_code(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}
