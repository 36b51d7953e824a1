/* `sigharness sign` on a bundle: a directory X.app / X.systemextension / X.dext, or a packed
 * bundle file (parsers/bundle.h).  The bundle is read into memory, its root bundle signed with
 * mutators/bundle_signer.h (nested code must already be signed: no --deep, sign inside out) and
 * written back atomically (mutators/bundle_write.h). */
#ifndef SH_SIGN_BUNDLE_CMD_H
#define SH_SIGN_BUNDLE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer.h"

typedef struct sh_sign_bundle_job {
    const char *path;       /* the bundle directory, or the packed bundle file */
    const uint8_t *packed;  /* the packed file's bytes; NULL: path is a directory */
    size_t packed_len;
    const char *out;        /* NULL: replace path; a directory OUT must be absent or empty */
    const uint8_t *profile; /* embedded.provisionprofile bytes to place; NULL: leave as is */
    size_t profile_len;
} sh_sign_bundle_job;

/* True when path is a directory whose name ends in .app, .systemextension or .dext. */
bool sh_sign_is_bundle_dir(const char *path);

/* Signs job's bundle with code (identifier NULL: CFBundleIdentifier), prints "PATH: signed
 * (...)" or the error on stderr, and returns an SH_EXIT_* code (inspect.h): 0 signed, 1 refused,
 * 2 bad options, 3 the bundle is malformed, 4 it cannot be read or written. */
int sh_sign_bundle_job_run(const sh_sign_bundle_job *job, const sh_sign_options *code);

#endif
