/* `sigharness fixtures broken -o DIR` (broken_cmd.c): every catalogue mutator applied to every
 * base bundle it fits, written atomically (built in a temporary sibling directory and renamed
 * into place) with a manifest other tools' test suites can consume.
 *
 * DIR/manifest.json, schema "sigharness.broken/1": {"schema", "now" (the time the expectations
 * hold at), "fixtures": [{"name", "base", "mutator" ("" for a base), "description", "situation",
 * "category", "variant", "policy", "path" ("<name>/<App>.app"), "packed"
 * ("packed/<name>.shbundle"), "notarized" ("<name>/notarized.txt"), "location" (install
 * location), "notary_effect" ("unchanged" | "resubmitted" | "revoked"), "expected":
 * {"activation_ok", "sysext", "sysext_name", "errsec", "errsec_name", "static_errsec",
 * "app_killed", "notary" (message or null), "launch"}}]}. */
#ifndef SH_BROKEN_CMD_H
#define SH_BROKEN_CMD_H

#define SH_BROKEN_SCHEMA "sigharness.broken/1"

/* argv[0] is "broken". */
int sh_broken_command(int argc, char **argv);

#endif
