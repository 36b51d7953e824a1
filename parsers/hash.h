/* Code-signing hash types and digests (OpenSSL does the hashing). */
#ifndef SH_HASH_H
#define SH_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SH_HASH_NONE = 0,
    SH_HASH_SHA1 = 1,
    SH_HASH_SHA256 = 2,
    SH_HASH_SHA256_TRUNCATED = 3,
    SH_HASH_SHA384 = 4,
    SH_HASH_SHA512 = 5, /* named by CSCommon.h, refused by the kernel and by us */
};

#define SH_HASH_MAX_SIZE 48 /* CS_HASH_MAX_SIZE */
#define SH_CDHASH_LEN 20    /* CS_CDHASH_LEN */

bool sh_hash_supported(unsigned type);
size_t sh_hash_size(unsigned type);      /* digest size as stored; 0 if unsupported */
const char *sh_hash_name(unsigned type); /* "sha256", "sha256-truncated"; "unknown" */
/* How the kernel ranks CodeDirectories: higher is preferred; 0 for unsupported. */
int sh_hash_rank(unsigned type);

/* A reusable hasher: set up once, digest many pages without re-fetching the algorithm. */
typedef struct sh_hasher sh_hasher;
sh_hasher *sh_hasher_new(unsigned type);
void sh_hasher_free(sh_hasher *h);
/* Writes sh_hash_size(type) bytes to out. */
bool sh_hasher_digest(sh_hasher *h, const uint8_t *data, size_t len, uint8_t *out);

/* One-shot convenience. */
bool sh_hash(unsigned type, const uint8_t *data, size_t len, uint8_t *out);

#endif
