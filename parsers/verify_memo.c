/* The verification memo (verify_memo.h): an open-addressing table of SHA-256 keys. */
#include "verify_memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

typedef struct memo_slot {
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    void *value; /* NULL: empty */
    void (*release)(void *);
} memo_slot;

/* The table grows by doubling, from nothing (a verdict of one bad input stores nothing and should
 * cost nothing), to twice the entries at most, a power of two: probes stay short. */
#define MEMO_FIRST_SLOTS 64u
#define MEMO_MAX_SLOTS (2u * SH_MAX_VERIFY_MEMO_ENTRIES)

struct sh_verify_memo {
    pthread_mutex_t lock;
    memo_slot *slots;
    size_t nslots; /* 0 or a power of two */
    size_t count;
};

sh_verify_memo *sh_verify_memo_new(void)
{
    sh_verify_memo *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

void sh_verify_memo_free(sh_verify_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].value)
            m->slots[i].release(m->slots[i].value);
    pthread_mutex_destroy(&m->lock);
    free(m->slots);
    free(m);
}

/* The slot holding key, or the empty slot where it would go (the table is never full). */
static memo_slot *find(memo_slot *slots, size_t nslots, const uint8_t *key)
{
    size_t i = ((size_t)key[0] | (size_t)key[1] << 8 | (size_t)key[2] << 16) & (nslots - 1);
    while (slots[i].value && memcmp(slots[i].key, key, SH_VERIFY_MEMO_KEY_LEN) != 0)
        i = (i + 1) & (nslots - 1);
    return &slots[i];
}

/* Room for one more entry at most half full; false when out of memory. */
static bool make_room(sh_verify_memo *m)
{
    if (2 * (m->count + 1) <= m->nslots)
        return true;
    size_t n = m->nslots ? 2 * m->nslots : MEMO_FIRST_SLOTS;
    if (n > MEMO_MAX_SLOTS)
        return false;
    memo_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].value)
            *find(slots, n, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return true;
}

const void *sh_verify_memo_get(sh_verify_memo *m, const uint8_t key[SH_VERIFY_MEMO_KEY_LEN])
{
    pthread_mutex_lock(&m->lock);
    const void *value = m->nslots ? find(m->slots, m->nslots, key)->value : NULL;
    pthread_mutex_unlock(&m->lock);
    return value;
}

bool sh_verify_memo_put(sh_verify_memo *m, const uint8_t key[SH_VERIFY_MEMO_KEY_LEN], void *value,
                        void (*release)(void *))
{
    pthread_mutex_lock(&m->lock);
    bool stored = m->count < SH_MAX_VERIFY_MEMO_ENTRIES && make_room(m);
    memo_slot *s = stored ? find(m->slots, m->nslots, key) : NULL;
    stored = s && !s->value;
    if (stored) {
        memcpy(s->key, key, SH_VERIFY_MEMO_KEY_LEN);
        s->value = value;
        s->release = release;
        m->count++;
    }
    pthread_mutex_unlock(&m->lock);
    return stored;
}

void sh_memo_key_begin(sh_memo_key *k, const char *tag)
{
    k->md = EVP_MD_CTX_new();
    k->ok = k->md && EVP_DigestInit_ex(k->md, EVP_sha256(), NULL) == 1;
    sh_memo_key_bytes(k, (const uint8_t *)tag, strlen(tag));
}

void sh_memo_key_u64(sh_memo_key *k, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    k->ok = k->ok && EVP_DigestUpdate(k->md, le, sizeof le) == 1;
}

void sh_memo_key_bytes(sh_memo_key *k, const uint8_t *p, size_t len)
{
    sh_memo_key_u64(k, len);
    k->ok = k->ok && (len == 0 || EVP_DigestUpdate(k->md, p, len) == 1);
}

void sh_memo_key_x509(sh_memo_key *k, X509 *cert)
{
    sh_memo_key_u64(k, cert != NULL);
    if (!cert || !k->ok)
        return;
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    k->ok = len > 0;
    if (k->ok)
        sh_memo_key_bytes(k, der, (size_t)len);
    OPENSSL_free(der);
}

void sh_memo_key_x509s(sh_memo_key *k, STACK_OF(X509) *certs)
{
    int n = sk_X509_num(certs);
    sh_memo_key_u64(k, n > 0 ? (uint64_t)n : 0);
    for (int i = 0; i < n; i++)
        sh_memo_key_x509(k, sk_X509_value(certs, i));
}

void sh_memo_key_trust(sh_memo_key *k, const sh_trust *trust)
{
    size_t nder = trust ? trust->n_anchor_der : 0, nx509 = trust ? trust->n_anchor_x509 : 0;
    sh_memo_key_u64(k, nder);
    for (size_t i = 0; i < nder; i++)
        sh_memo_key_bytes(k, trust->anchor_der[i].p, trust->anchor_der[i].len);
    sh_memo_key_u64(k, nx509);
    for (size_t i = 0; i < nx509; i++)
        sh_memo_key_x509(k, trust->anchor_x509[i]);
}

static void release_x509(void *x)
{
    X509_free(x);
}

X509 *sh_verify_memo_x509(sh_verify_memo *m, const uint8_t *der, size_t len)
{
    uint8_t key[SH_VERIFY_MEMO_KEY_LEN];
    sh_memo_key k;
    sh_memo_key_begin(&k, "X509/1");
    sh_memo_key_bytes(&k, der, len);
    bool keyed = sh_memo_key_end(&k, key) && m;
    X509 *known = keyed ? (X509 *)sh_verify_memo_get(m, key) : NULL;
    if (known)
        return X509_up_ref(known) ? known : NULL;
    const unsigned char *p = der;
    X509 *cert = len <= (size_t)INT32_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (!cert || p != der + len) {
        X509_free(cert);
        return NULL;
    }
    if (keyed && X509_up_ref(cert) && !sh_verify_memo_put(m, key, cert, release_x509))
        X509_free(cert); /* the memo did not take its reference */
    return cert;
}

bool sh_memo_key_end(sh_memo_key *k, uint8_t out[SH_VERIFY_MEMO_KEY_LEN])
{
    unsigned int len = 0;
    bool ok = k->ok && EVP_DigestFinal_ex(k->md, out, &len) == 1 && len == SH_VERIFY_MEMO_KEY_LEN;
    EVP_MD_CTX_free(k->md);
    k->md = NULL;
    return ok;
}
