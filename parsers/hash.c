#include "hash.h"

#include "alloc.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct sh_hasher {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    size_t out_size;
};

static const char *openssl_name(unsigned type)
{
    switch (type) {
    case SH_HASH_SHA1: return "SHA1";
    case SH_HASH_SHA256:
    case SH_HASH_SHA256_TRUNCATED: return "SHA256";
    case SH_HASH_SHA384: return "SHA384";
    default: return NULL;
    }
}

bool sh_hash_supported(unsigned type) { return openssl_name(type) != NULL; }

size_t sh_hash_size(unsigned type)
{
    switch (type) {
    case SH_HASH_SHA1: return 20;
    case SH_HASH_SHA256: return 32;
    case SH_HASH_SHA256_TRUNCATED: return 20;
    case SH_HASH_SHA384: return 48;
    default: return 0;
    }
}

const char *sh_hash_name(unsigned type)
{
    switch (type) {
    case SH_HASH_SHA1: return "sha1";
    case SH_HASH_SHA256: return "sha256";
    case SH_HASH_SHA256_TRUNCATED: return "sha256-truncated";
    case SH_HASH_SHA384: return "sha384";
    case SH_HASH_SHA512: return "sha512";
    default: return "unknown";
    }
}

int sh_hash_rank(unsigned type)
{
    switch (type) {
    case SH_HASH_SHA1: return 1;
    case SH_HASH_SHA256_TRUNCATED: return 2;
    case SH_HASH_SHA256: return 3;
    case SH_HASH_SHA384: return 4;
    default: return 0;
    }
}

sh_hasher *sh_hasher_new(unsigned type)
{
    const char *name = openssl_name(type);
    if (!name)
        return NULL;
    sh_hasher *h = sh_calloc(NULL, 1, sizeof *h);
    if (!h)
        return NULL;
    h->md = EVP_MD_fetch(NULL, name, NULL);
    h->ctx = EVP_MD_CTX_new();
    h->out_size = sh_hash_size(type);
    if (!h->md || !h->ctx) {
        sh_hasher_free(h);
        return NULL;
    }
    return h;
}

void sh_hasher_free(sh_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    sh_free(NULL, h);
}

bool sh_hasher_digest(sh_hasher *h, const uint8_t *data, size_t len, uint8_t *out)
{
    uint8_t full[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, data, len) ||
        !EVP_DigestFinal_ex(h->ctx, full, &n) || n < h->out_size)
        return false;
    for (size_t i = 0; i < h->out_size; i++)
        out[i] = full[i];
    return true;
}

bool sh_hash(unsigned type, const uint8_t *data, size_t len, uint8_t *out)
{
    sh_hasher *h = sh_hasher_new(type);
    if (!h)
        return false;
    bool ok = sh_hasher_digest(h, data, len, out);
    sh_hasher_free(h);
    return ok;
}
