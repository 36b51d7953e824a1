/* Loading the committed test PKI (see pki.h). */
#include "pki.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#ifndef SH_PKI_DEFAULT_DIR
#define SH_PKI_DEFAULT_DIR "corpus/pki"
#endif

typedef struct pki_entry {
    const char *name, *issuer;
    sh_pki_kind kind;
} pki_entry;

static const pki_entry entries[] = {
    {"devid-team1", "devid-ca", SH_PKI_DEVELOPER_ID},
    {"devid-team2", "devid-ca", SH_PKI_DEVELOPER_ID},
    {"dev-team1", "wwdr-ca", SH_PKI_DEVELOPMENT},
    {"dev-team2", "wwdr-ca", SH_PKI_DEVELOPMENT},
    {"profile-signer", "wwdr-ca", SH_PKI_PROFILE},
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

static const char *const names[] = {"devid-team1", "devid-team2", "dev-team1", "dev-team2",
                                    "profile-signer", NULL};

const char *const *sh_pki_identity_names(void) { return names; }

const char *sh_pki_default_dir(void) { return SH_PKI_DEFAULT_DIR; }

#include <stdarg.h>

static void say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t size, const char *fmt, ...)
{
    if (!why || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

static FILE *open_pem(const char *dir, const char *base, const char *suffix, char *why,
                      size_t why_size)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s%s", dir, base, suffix);
    if (n < 0 || (size_t)n >= sizeof path) {
        say(why, why_size, "%s/%s: path too long", dir, base);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        say(why, why_size, "cannot open %s", path);
    return f;
}

X509 *sh_pki_load_cert(const char *dir, const char *base, char *why, size_t why_size)
{
    FILE *f = open_pem(dir ? dir : SH_PKI_DEFAULT_DIR, base, ".cert.pem", why, why_size);
    if (!f)
        return NULL;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!cert)
        say(why, why_size, "%s.cert.pem in %s is not a PEM certificate", base, dir ? dir : "default dir");
    return cert;
}

static EVP_PKEY *load_key(const char *dir, const char *base, char *why, size_t why_size)
{
    FILE *f = open_pem(dir, base, ".key.pem", why, why_size);
    if (!f)
        return NULL;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!key)
        say(why, why_size, "%s.key.pem in %s is not a PEM private key", base, dir);
    return key;
}

/* First subject entry of nid as UTF-8 into buf ("" when absent or unreadable). */
static void subject_text(X509 *cert, int nid, char *buf, size_t size)
{
    buf[0] = '\0';
    X509_NAME *name = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(name, nid, -1);
    if (at < 0)
        return;
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
    if (len > 0 && (size_t)len < size) {
        memcpy(buf, utf8, (size_t)len);
        buf[len] = '\0';
    }
    OPENSSL_free(utf8);
}

static bool load_entry(const char *dir, const pki_entry *e, sh_pki_identity *out, char *why,
                       size_t why_size)
{
    out->kind = e->kind;
    snprintf(out->name, sizeof out->name, "%s", e->name);
    out->leaf = sh_pki_load_cert(dir, e->name, why, why_size);
    out->key = out->leaf ? load_key(dir, e->name, why, why_size) : NULL;
    out->intermediate = out->key ? sh_pki_load_cert(dir, e->issuer, why, why_size) : NULL;
    out->root = out->intermediate ? sh_pki_load_cert(dir, "root", why, why_size) : NULL;
    if (!out->root)
        return false;
    if (X509_check_private_key(out->leaf, out->key) != 1) {
        ERR_clear_error();
        say(why, why_size, "%s: key does not match the certificate (%s)", e->name, dir);
        return false;
    }
    subject_text(out->leaf, NID_commonName, out->cn, sizeof out->cn);
    subject_text(out->leaf, NID_organizationalUnitName, out->team, sizeof out->team);
    out->chain[0] = out->intermediate;
    out->chain[1] = out->root;
    return true;
}

/* Which entry a name means: a file base, or the full CN of the entry's certificate. */
static const pki_entry *find_entry(const char *dir, const char *name)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
    for (size_t i = 0; i < N_ENTRIES; i++) {
        X509 *cert = sh_pki_load_cert(dir, entries[i].name, NULL, 0);
        char cn[256] = "";
        if (cert)
            subject_text(cert, NID_commonName, cn, sizeof cn);
        X509_free(cert);
        if (cn[0] && strcmp(cn, name) == 0)
            return &entries[i];
    }
    return NULL;
}

bool sh_pki_load_identity(const char *dir, const char *name, sh_pki_identity *out, char *why,
                          size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (!dir)
        dir = SH_PKI_DEFAULT_DIR;
    const pki_entry *e = name ? find_entry(dir, name) : NULL;
    if (!e) {
        say(why, why_size, "no identity \"%s\" in the test PKI at %s", name ? name : "", dir);
        return false;
    }
    if (!load_entry(dir, e, out, why, why_size)) {
        sh_pki_identity_free(out);
        return false;
    }
    return true;
}

void sh_pki_identity_free(sh_pki_identity *id)
{
    X509_free(id->leaf);
    X509_free(id->intermediate);
    X509_free(id->root);
    EVP_PKEY_free(id->key);
    memset(id, 0, sizeof *id);
}

bool sh_pki_load_tsa(const char *dir, sh_pki_tsa *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (!dir)
        dir = SH_PKI_DEFAULT_DIR;
    out->cert = sh_pki_load_cert(dir, "tsa", why, why_size);
    out->key = out->cert ? load_key(dir, "tsa", why, why_size) : NULL;
    out->ca = out->key ? sh_pki_load_cert(dir, "ts-ca", why, why_size) : NULL;
    if (!out->ca) {
        sh_pki_tsa_free(out);
        return false;
    }
    return true;
}

void sh_pki_tsa_free(sh_pki_tsa *tsa)
{
    X509_free(tsa->cert);
    X509_free(tsa->ca);
    EVP_PKEY_free(tsa->key);
    memset(tsa, 0, sizeof *tsa);
}
