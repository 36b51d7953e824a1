/* A run's memo of verifications that are pure functions of their inputs: a code signature's CMS
 * verified over its CodeDirectories, a provisioning profile parsed and verified, a certificate
 * decoded (signed_data.h: a new signature made with known certificates decodes none of them).
 *
 * Why: `regress` and `fixtures broken` judge hundreds of bundles that share most of their
 * signatures (a mutation of an extension's resources leaves both CMS signatures and both profiles
 * as they were, a resubmitted case is judged twice), and in OpenSSL 3.0 decoding one certificate
 * costs about 0.1 ms, a dozen per signature.
 *
 * The key is a SHA-256 over every input of the verification (the bytes, their absolute offsets
 * where errors report them, the verification time, the trusted anchors), so a hit gives exactly
 * what recomputing would.  Thread-safe (the differential runner judges in parallel); an entry is
 * immutable once stored and lives until sh_verify_memo_free.  Not global: whoever runs many
 * verdicts makes one and passes it in the options. */
#ifndef SH_VERIFY_MEMO_H
#define SH_VERIFY_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cert.h"

#define SH_MAX_VERIFY_MEMO_ENTRIES 8192u /* beyond it nothing more is remembered */
#define SH_VERIFY_MEMO_KEY_LEN 32u

typedef struct sh_verify_memo sh_verify_memo;

/* NULL when out of memory (callers then verify without a memo). */
sh_verify_memo *sh_verify_memo_new(void);
void sh_verify_memo_free(sh_verify_memo *m);

/* The value stored under key, or NULL. */
const void *sh_verify_memo_get(sh_verify_memo *m, const uint8_t key[SH_VERIFY_MEMO_KEY_LEN]);
/* Stores value under key; the memo then owns it and calls release(value) when freed.  Returns
 * false when the memo is full (or its table cannot grow) or a value is already stored under key:
 * the caller keeps value. */
bool sh_verify_memo_put(sh_verify_memo *m, const uint8_t key[SH_VERIFY_MEMO_KEY_LEN], void *value,
                        void (*release)(void *));

/* The certificate der encodes (exactly len bytes), decoded once per memo: a new reference (free
 * it with X509_free), NULL when der is not one whole certificate or out of memory.  m may be NULL
 * (decoded every time). */
X509 *sh_verify_memo_x509(sh_verify_memo *m, const uint8_t *der, size_t len);

/* Building a key: begin with a tag naming the kind of verification (and its version), add every
 * input, end.  Any failure makes end return false (then do not use the memo). */
typedef struct sh_memo_key {
    EVP_MD_CTX *md;
    bool ok;
} sh_memo_key;
void sh_memo_key_begin(sh_memo_key *k, const char *tag);
void sh_memo_key_bytes(sh_memo_key *k, const uint8_t *p, size_t len); /* length-prefixed */
void sh_memo_key_u64(sh_memo_key *k, uint64_t v);
void sh_memo_key_trust(sh_memo_key *k, const sh_trust *trust); /* the anchors' DER */
void sh_memo_key_x509(sh_memo_key *k, X509 *cert);             /* its DER (NULL allowed) */
void sh_memo_key_x509s(sh_memo_key *k, STACK_OF(X509) *certs); /* each one's, in order */
bool sh_memo_key_end(sh_memo_key *k, uint8_t out[SH_VERIFY_MEMO_KEY_LEN]);

#endif
