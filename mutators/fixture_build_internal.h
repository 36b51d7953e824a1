/* Shared by fixture_build.c and fixture_plists.c only. */
#ifndef SH_FIXTURE_BUILD_INTERNAL_H
#define SH_FIXTURE_BUILD_INTERNAL_H

#include <plist/plist.h>

#include "bytebuf.h"
#include "fixture_build.h"

/* Which code a plist is for. */
typedef enum fx_code { FX_APP, FX_EXTENSION } fx_code;

/* Info.plist of the app or the extension (a dict, NULL on failure). */
plist_t sh_fx_info_plist(const sh_fx_bundle *s, fx_code code);
/* The entitlements signed into the app or the extension (a dict, NULL on failure); also the
 * profile's allow-list. */
plist_t sh_fx_entitlements(const sh_fx_bundle *s, fx_code code);
/* Appends the plist as XML (libplist's writer, as Xcode's tools emit it). */
bool sh_fx_plist_xml(plist_t p, sh_bytebuf *out);

/* Executable name of the extension: its bundle id, as Xcode's system-extension targets name
 * their product. */
static inline const char *sh_fx_extension_exe(const sh_fx_bundle *s) { return s->extension_id; }

#endif
