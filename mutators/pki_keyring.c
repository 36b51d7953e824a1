/* The loaded test PKI (pki_keyring.h). */
#include "pki_keyring.h"

#include <stdio.h>
#include <string.h>

bool sh_pki_keyring_load(sh_pki_keyring *k, const char *dir, char *why, size_t why_size)
{
    memset(k, 0, sizeof *k);
    for (const char *const *name = sh_pki_identity_names(); *name; name++) {
        if (k->count == SH_PKI_MAX_IDENTITIES) {
            snprintf(why, why_size, "the test PKI lists more than %u identities",
                     SH_PKI_MAX_IDENTITIES);
            sh_pki_keyring_free(k);
            return false;
        }
        if (!sh_pki_load_identity(dir, *name, &k->ids[k->count], why, why_size)) {
            sh_pki_keyring_free(k);
            return false;
        }
        k->count++;
    }
    if (!sh_pki_load_tsa(dir, &k->tsa, why, why_size)) {
        sh_pki_keyring_free(k);
        return false;
    }
    return true;
}

void sh_pki_keyring_free(sh_pki_keyring *k)
{
    for (size_t i = 0; i < k->count; i++)
        sh_pki_identity_free(&k->ids[i]);
    sh_pki_tsa_free(&k->tsa);
    memset(k, 0, sizeof *k);
}

const sh_pki_identity *sh_pki_keyring_find(const sh_pki_keyring *k, const char *name)
{
    for (size_t i = 0; name && i < k->count; i++)
        if (!strcmp(k->ids[i].name, name) || !strcmp(k->ids[i].cn, name))
            return &k->ids[i];
    return NULL;
}
