/* Shared by signer*.c only. */
#ifndef SH_SIGNER_INTERNAL_H
#define SH_SIGNER_INTERNAL_H

#include "macho.h"
#include "signer.h"

/* The blobs every slice seals: requirement set, entitlements XML and DER (len 0: absent). */
typedef struct sh_sign_blobs {
    sh_bytebuf reqs, ent_xml, ent_der;
} sh_sign_blobs;

sh_sign_status sh_sign_fail(sh_sign_result *r, sh_sign_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

sh_sign_status sh_sign_blobs_make(const sh_sign_options *o, sh_sign_blobs *b, sh_sign_result *r);
void sh_sign_blobs_free(sh_sign_blobs *b);

/* Appends slice s signed (slice-relative layout) to out. */
sh_sign_status sh_sign_slice(const sh_macho_slice *s, const sh_sign_options *o,
                             const sh_sign_blobs *b, sh_bytebuf *out, sh_sign_result *r);

#endif
