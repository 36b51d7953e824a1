/* Private to profile*.c. */
#ifndef SH_PROFILE_INTERNAL_H
#define SH_PROFILE_INTERNAL_H

#include <plist/plist.h>

#include "cms.h"
#include "profile.h"

/* Unix time of the plist epoch 2001-01-01T00:00:00Z. */
#define SH_PLIST_EPOCH 978307200

/* profile_cms.c: decode (step 1) and verify (steps 2 and 3).  *cms is freed with sh_cms_free. */
sh_err sh_profile_cms_decode(const sh_cursor *in, sh_verify_memo *memo, sh_cms *cms,
                             sh_profile *out, sh_error *err);
void sh_profile_cms_verify(const sh_cms *cms, const sh_profile *p,
                           const sh_profile_options *opt, int64_t fallback_time,
                           sh_profile_signature *sig);

/* profile_keys.c: step 4 over the libplist root. */
sh_err sh_profile_decode_plist(plist_t root, sh_verify_memo *memo, sh_profile *out, sh_error *err);

/* profile_certs.c: one DeveloperCertificates entry. */
sh_err sh_profile_cert_decode(const uint8_t *der, size_t len, size_t index, sh_verify_memo *memo,
                              sh_profile_cert *out, sh_error *err);

/* profile_strings.c: exactly sized copies through the profile's allocator. */
char *sh_profile_strdup(const sh_allocator *a, const char *s, size_t len);
void sh_profile_strings_free(const sh_allocator *a, sh_profile_strings *s);

#endif
