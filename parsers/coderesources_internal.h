/* Shared between coderesources.c (envelope, entries) and coderesources_rules.c (rules, matcher). */
#ifndef SH_CODERESOURCES_INTERNAL_H
#define SH_CODERESOURCES_INTERNAL_H

#include <plist/plist.h>

#include "coderesources.h"

/* "<part>/<key>[/<field>]" into where (may be NULL); key may be NULL. */
void sh_res_set_where(sh_res_where *where, const char *part, const char *key, size_t key_len,
                      const char *field);
/* Reads a rules/rules2 dict into *out (sorted).  part is "rules" or "rules2". */
sh_err sh_res_parse_rules(plist_t dict, const char *part, const sh_allocator *alloc,
                          sh_res_rules *out, sh_res_where *where, sh_error *err);

#endif
