/* The committed test PKI (corpus/pki/, made by mutators/pki/make-pki.sh): loads a signing
 * identity (leaf certificate, its key, the intermediate and the test root) or the timestamp
 * authority from a directory of PEM files.  TEST KEYS ONLY (see corpus/pki/README.md).
 *
 * Identities are named by their certificate's full subject CN ("Developer ID Application:
 * Sigharness Test One (SHTEAM0001)") or by their file base ("devid-team1").  Every OpenSSL object
 * is owned by the struct and released by its free function, which is safe on a zeroed struct and
 * after a failed load. */
#ifndef SH_PKI_H
#define SH_PKI_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define SH_PKI_WHY_MAX 320

typedef enum sh_pki_kind {
    SH_PKI_DEVELOPER_ID = 1, /* Developer ID Application (leaf 1.13 under a 2.6 CA) */
    SH_PKI_DEVELOPMENT,      /* Apple Development (leaf 1.2 + 1.12 under a 2.1 CA) */
    SH_PKI_PROFILE,          /* provisioning-profile signer */
} sh_pki_kind;

typedef struct sh_pki_identity {
    sh_pki_kind kind;
    char name[32];  /* file base: "devid-team1" */
    char cn[256];   /* leaf subject CN */
    char team[64];  /* leaf subject OU ("" when none) */
    X509 *leaf;
    EVP_PKEY *key;
    X509 *intermediate;
    X509 *root;
    X509 *chain[2]; /* {intermediate, root}: the certificates a signature carries besides the leaf */
} sh_pki_identity;

typedef struct sh_pki_tsa {
    X509 *cert;
    EVP_PKEY *key;
    X509 *ca;       /* the timestamp CA (carried in the token) */
} sh_pki_tsa;

/* The source tree's corpus/pki (compile definition SH_PKI_DEFAULT_DIR). */
const char *sh_pki_default_dir(void);

/* Loads identity `name` from dir (NULL: the default dir).  On failure returns false and writes
 * why into why (SH_PKI_WHY_MAX bytes recommended; may be NULL). */
bool sh_pki_load_identity(const char *dir, const char *name, sh_pki_identity *out, char *why,
                          size_t why_size);
void sh_pki_identity_free(sh_pki_identity *id);

bool sh_pki_load_tsa(const char *dir, sh_pki_tsa *out, char *why, size_t why_size);
void sh_pki_tsa_free(sh_pki_tsa *tsa);

/* Reads one PEM certificate (dir/base.cert.pem).  NULL with why on failure. */
X509 *sh_pki_load_cert(const char *dir, const char *base, char *why, size_t why_size);

/* The names of the signing identities, NULL-terminated (for usage texts). */
const char *const *sh_pki_identity_names(void);

#endif
