/* `sigharness fixtures base -o DIR [--force] [--spec FILE] [--packed] [--pki DIR]`
 *
 * Builds every bundle of a fixture spec (the built-in base catalogue, or --spec FILE; format in
 * docs/fixture-spec.md) and writes the set as one directory:
 *   DIR/<name>/<App>.app      the signed app with its system extension
 *   DIR/<name>.shbundle       the same bundle packed (docs/packed-bundle.md; root = the .app).
 *                             Always written: it is the form tests and fuzzers take; --packed
 *                             is accepted for scripts and changes nothing.
 *   DIR/notarized.txt         the primary cdhash of every slice of every code (app and
 *                             extension) in each bundle the spec marks notarised, one per line
 *                             with a '#' comment naming it (harness/notary_list.h format)
 *   DIR/manifest.json         schema "sigharness.fixtures/1" (below)
 * The set is assembled in memory and written with sh_bundle_write_dir: built beside DIR under a
 * temporary name and renamed into place, so an interrupted run leaves the old DIR (or none),
 * never half a set.  A non-empty DIR is refused unless --force.  Same spec, same bytes.
 *
 * manifest.json: {"schema": "sigharness.fixtures/1", "signing_time": seconds, "bundles": [{
 *   "name", "path" ("<name>/<App>.app"), "packed" ("<name>.shbundle"), "category", "provider"
 *   (null outside network), "variant", "policy" ("distribution" | "development": the policy the
 *   bundle is valid under), "app_id", "extension_id", "extension_path" (inside the .app),
 *   "team", "identity", "timestamp", "runtime", "sandbox", "get_task_allow", "notarized",
 *   "archs" [..], "cdhashes" [{"code": "app" | "extension", "arch", "cdhash": 40 hex}],
 *   "description"}]}
 *
 * Exit codes (inspect.h): 0 written; 1 refused (DIR not empty without --force, DIR a symlink or
 * a file) or a bundle failed to build; 2 usage; 3 the spec does not parse (the message names the
 * line); 4 the spec cannot be read or DIR cannot be written. */
#ifndef SH_FIXTURES_CMD_H
#define SH_FIXTURES_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "errors.h"

#define SH_FIXTURES_SCHEMA "sigharness.fixtures/1"

/* Builds the whole output set for spec_text (NULL: the built-in catalogue) into out (initialised
 * here, root = DIR) using the PKI in pki_dir (NULL: corpus/pki).  SH_E_OK, a FIXTURE_SPEC_* error
 * (err says where), or another error with why naming the bundle that failed to build. */
sh_err sh_fixtures_build_set(const uint8_t *spec_text, size_t spec_len, const char *pki_dir,
                             sh_bundle *out, sh_error *err, char *why, size_t why_size);

/* argv holds the arguments after "fixtures". */
int sh_fixtures_command(int argc, char **argv);

#endif
