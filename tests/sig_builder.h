/* In-memory builder of code-signature blobs for tests: CodeDirectories of every version,
 * generic blobs and SuperBlobs.  Hashing uses OpenSSL directly, independently of parsers/hash.c,
 * so a test can compare the parser's digests with these.  Allocation failures abort (test code).
 * Everything is big-endian, as on disk. */
#ifndef SIG_BUILDER_H
#define SIG_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sig_buf {
    uint8_t *data;
    size_t len, cap;
} sig_buf;

void sig_buf_free(sig_buf *b);
void sig_append(sig_buf *b, const void *p, size_t n);
void sig_append_u8(sig_buf *b, uint8_t v);
void sig_append_u16(sig_buf *b, uint16_t v);
void sig_append_u32(sig_buf *b, uint32_t v);
void sig_append_u64(sig_buf *b, uint64_t v);
/* Overwrite in place (off + size must lie inside b). */
void sig_set_u8(sig_buf *b, size_t off, uint8_t v);
void sig_set_u32(sig_buf *b, size_t off, uint32_t v);
void sig_set_u64(sig_buf *b, size_t off, uint64_t v);
uint32_t sig_get_u32(const sig_buf *b, size_t off);

/* A malloc'd copy of exactly n bytes (at least 1 byte is allocated for n = 0) so ASan reports
 * any read past n.  Free with free(). */
uint8_t *sig_exact_copy(const void *p, size_t n);

/* Independent digest (OpenSSL EVP) of a code-signing hash type: SHA-1 1, SHA-256 2, SHA-256
 * truncated to 20 bytes 3, SHA-384 4.  Returns the stored size, 0 for other types. */
size_t sig_digest(unsigned type, const void *p, size_t n, uint8_t out[48]);
size_t sig_hash_size(unsigned type);

/* A generic blob {magic, length = 8 + n, payload}. */
sig_buf sig_blob(uint32_t magic, const void *payload, size_t n);

typedef struct sig_scatter {
    uint32_t count, base;
    uint64_t target_offset, spare;
} sig_scatter;

#define SIG_MAX_SPECIAL 16

/* Everything a CodeDirectory can say.  sig_cd_defaults fills a consistent spec; tests then change
 * fields.  Code hashes are computed over code[0, limit) in pages of 1 << page_shift. */
typedef struct sig_cd_spec {
    uint32_t version, flags;
    uint8_t hash_type, hash_size, platform, page_shift;
    uint32_t spare2, spare3;
    const char *identifier;
    const char *team_id; /* written only for version >= 0x20200; NULL for none */
    uint32_t n_special_slots;
    uint8_t special[SIG_MAX_SPECIAL + 1][48]; /* special[slot], slot 1..n_special_slots */
    const uint8_t *code;
    size_t code_len;
    uint32_t code_limit;   /* the 32-bit field */
    uint64_t code_limit64; /* written for version >= 0x20300 */
    uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
    uint32_t runtime, pre_encrypt_offset;
    uint8_t linkage_hash_type, linkage_application_type;
    uint16_t linkage_application_subtype;
    const uint8_t *linkage; /* copied into the blob, after the code hashes */
    size_t linkage_len;
    const sig_scatter *scatter; /* non-NULL: a vector of n_scatter entries (may be 0), then the
                                 * count=0 terminator unless scatter_no_terminator */
    size_t n_scatter;
    bool scatter_no_terminator;
    size_t unknown_tail_len; /* 0xEE bytes after the known header (versions past 0x20600) */
} sig_cd_spec;

/* Where the builder put things, relative to the CD start. */
typedef struct sig_cd_layout {
    size_t header_size, scatter_offset, ident_offset, team_offset, hash_offset, linkage_offset;
    size_t length;
} sig_cd_layout;

size_t sig_cd_header_size(uint32_t version);
void sig_cd_defaults(sig_cd_spec *s, uint32_t version, unsigned hash_type, const uint8_t *code,
                     size_t code_len);
/* Stores the CD-type hash of a blob in special slot `slot` and raises n_special_slots to it. */
void sig_cd_seal(sig_cd_spec *s, uint32_t slot, const sig_buf *blob);
sig_buf sig_build_cd(const sig_cd_spec *s, sig_cd_layout *layout);

typedef struct sig_entry {
    uint32_t type;
    const sig_buf *blob; /* NULL: an absent entry (offset 0) */
} sig_entry;

/* {magic, length, count, index, blobs in the given order}; entry i's offset is recorded in
 * offsets[i] when offsets is not NULL. */
sig_buf sig_build_superblob(uint32_t magic, const sig_entry *entries, size_t n, uint32_t *offsets);

/* Deterministic filler bytes for code. */
void sig_fill_code(uint8_t *p, size_t n, uint32_t seed);

#endif
