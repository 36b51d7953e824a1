/* Every identity of the test PKI and its timestamp authority, loaded once: a run that re-signs
 * hundreds of bundles then pays for signatures, not for parsing the same PEM files again (in
 * OpenSSL 3.0 decoding one certificate or key costs about 0.1 ms).  Read-only after loading, so
 * one keyring can serve concurrent signers. */
#ifndef SH_PKI_KEYRING_H
#define SH_PKI_KEYRING_H

#include "pki.h"

#define SH_PKI_MAX_IDENTITIES 8u

typedef struct sh_pki_keyring {
    sh_pki_identity ids[SH_PKI_MAX_IDENTITIES];
    size_t count;
    sh_pki_tsa tsa;
} sh_pki_keyring;

/* Loads every identity sh_pki_identity_names() lists, and the TSA, from dir (NULL: the default
 * dir).  False with why on failure (nothing left to free). */
bool sh_pki_keyring_load(sh_pki_keyring *k, const char *dir, char *why, size_t why_size);
void sh_pki_keyring_free(sh_pki_keyring *k);

/* The identity whose file base ("devid-team1") or leaf CN is name; NULL when none. */
const sh_pki_identity *sh_pki_keyring_find(const sh_pki_keyring *k, const char *name);

#endif
