/* Signer attributes of the code-signing CMS (private to cms.c / cms_attr.c). */
#ifndef SH_CMS_ATTR_H
#define SH_CMS_ATTR_H

#include "cms.h"

/* Reads contentType, messageDigest, signingTime, CDHashes and CDHashes2 from cms->signer's signed
 * attributes into cms.  Other signed attributes are counted and ignored, as Security does. */
sh_err sh_cms_read_signed_attrs(sh_cms *cms, sh_error *err);
/* Finds the timestamp token among the unsigned attributes (others are counted). */
sh_err sh_cms_read_unsigned_attrs(sh_cms *cms, sh_error *err);

#endif
