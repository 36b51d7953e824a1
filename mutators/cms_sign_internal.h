/* Shared by cms_sign.c and cms_sign_ts.c only. */
#ifndef SH_CMS_SIGN_INTERNAL_H
#define SH_CMS_SIGN_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include "cms_sign.h"

/* A DER timestamp token over sha256(sig) from p's TSA; *der is OPENSSL_malloc'd. */
bool sh_cms_ts_token(const sh_cms_sign_params *p, const uint8_t *sig, size_t sig_len,
                     unsigned char **der, int *der_len);

#endif
