/* `sigharness profile [--json | --xml] [--now SECONDS] [--root DER-FILE] FILE...`: decode a
 * provisioning profile, verify its CMS signature and chain (pinned Apple roots, plus --root),
 * and print a summary, the JSON document (schema SH_PROFILE_JSON_SCHEMA) or the plist as XML
 * (what `security cms -D -i` prints).
 *
 * Exit codes (inspect.h): 0 decoded, signature and chain verified, not expired at --now
 * (default: the current time); 1 signature, chain or expiry fails; 2 usage; 3 malformed (not a
 * profile, bad plist or key); 4 unreadable.  With several files, the worst. */
#ifndef SH_PROFILE_CMD_H
#define SH_PROFILE_CMD_H

#include <stdio.h>

#include "profile.h"

#define SH_PROFILE_JSON_SCHEMA "sigharness.profile/1"

/* argv holds the arguments after "profile". */
int sh_profile_command(int argc, char **argv);

/* The JSON document of one file (parse_result: what sh_profile_parse returned, with err). */
void sh_profile_print_json(const char *path, const sh_profile *p, sh_err parse_result,
                           const sh_error *err, sh_err expiry, int exit_code, FILE *out);

#endif
