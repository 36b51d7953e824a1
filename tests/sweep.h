/* Allocation-failure sweep (test_alloc_sweep.c): one small driver per entry point.  A driver runs
 * one complete operation on fixed, valid inputs and returns 0 when it succeeded or a non-zero
 * status (an sh_err, sh_write_status, sh_sign_status or exit code) when it failed; on success it
 * folds what it produced into s->fingerprint so the sweep can tell a run that tolerated a failed
 * allocation from one that silently produced something different. */
#ifndef SH_TEST_SWEEP_H
#define SH_TEST_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "pki.h"

typedef struct sweep_file {
    uint8_t *data;
    size_t len;
} sweep_file;

/* Inputs every driver reads, loaded once before the sweep (outside the counted runs). */
typedef struct sweep_inputs {
    sweep_file macho_fat;      /* corpus/fuzz_macho/lld-fat: signed fat Mach-O */
    sweep_file cms_seed;       /* corpus/fuzz_cms seed: CodeDirectories + BlobWrapper payload */
    sweep_file req_blob;       /* corpus/fuzz_requirement/req_every_op */
    sweep_file req_text;       /* corpus/fuzz_requirement/text_devid_dr */
    sweep_file ent_xml;        /* corpus/fuzz_entitlements_xml/guiapp_entitlements.xml */
    sweep_file ent_der;        /* corpus/fuzz_entitlements_der seed */
    sweep_file profile;        /* corpus/fuzz_profile/developerid */
    sweep_file coderesources;  /* corpus/fuzz_coderesources/synthetic_kinds.xml */
    sweep_file infoplist;      /* corpus/fuzz_infoplist/synthetic_es_cmio_driver.xml */
    uint8_t *thin;             /* a synthesised arm64 Mach-O signed ad hoc (the signer's input) */
    size_t thin_len;
    char dir[256];             /* scratch directory: input files for the CLI drivers, outputs */
    char thin_path[300];       /* thin, written to dir */
    char ents_path[300];       /* ent_xml, written to dir */
    char bundle_dir[300];      /* a small flat bundle for the CodeResources walk */
    char devid_path[300];      /* thin signed with devid-team1 and a timestamp, in dir */
    sweep_file root_der;       /* corpus/pki/root.cert.der: the test root inspect trusts */
    sh_pki_identity id;        /* devid-team1 */
    sh_pki_tsa tsa;
    struct sh_fx_built *fixture; /* the first built-in fixture app (rows that ask for it) */
} sweep_inputs;

typedef struct sweep {
    const sh_allocator *a;     /* hand this to every entry point that takes an allocator */
    const sweep_inputs *in;
    uint64_t fingerprint;
} sweep;

typedef int (*sweep_driver)(sweep *s);

/* FNV-1a over bytes, folded into s->fingerprint. */
void sweep_mix(sweep *s, const void *data, size_t len);
void sweep_mix_u64(sweep *s, uint64_t v);

/* Parser drivers (sweep_parsers.c). */
int sweep_macho(sweep *s);
int sweep_superblob(sweep *s);
int sweep_codedir(sweep *s);
int sweep_signature(sweep *s);
int sweep_requirement_decode(sweep *s);
int sweep_requirement_compile(sweep *s);
int sweep_entitlements_xml(sweep *s);
int sweep_entitlements_der(sweep *s);
int sweep_cms(sweep *s);
int sweep_profile(sweep *s);
int sweep_coderesources(sweep *s);
int sweep_infoplist(sweep *s);

/* Writer and command drivers (sweep_writers.c). */
int sweep_synth_thin(sweep *s);
int sweep_synth_fat(sweep *s);
int sweep_pki_load(sweep *s);
int sweep_signer(sweep *s);
int sweep_crw_write(sweep *s);
int sweep_crw_walk(sweep *s);
int sweep_sign_cmd(sweep *s);
int sweep_inspect(sweep *s);

/* Developer ID, timestamp, runtime, entitlements, dual hash: the options the signer rows use. */
struct sh_sign_options;
void sweep_sign_options(const sweep_inputs *in, struct sh_sign_options *o);

/* Bundle-layer drivers (sweep_bundles.c). */
int sweep_bundle_read_pack(sweep *s);
int sweep_fixture_spec(sweep *s);
int sweep_fixture_build(sweep *s);
int sweep_bundle_signer(sweep *s);
int sweep_verdict(sweep *s);
int sweep_verdict_memo(sweep *s);
int sweep_mutation(sweep *s);

/* Names of files the sign_cmd driver may leave in in->dir: the sweep asserts none exist after
 * a failed run.  True when dir holds anything beyond the inputs. */
bool sweep_dir_has_output(const sweep_inputs *in);
/* Removes outputs left by a successful run. */
void sweep_dir_clean_output(const sweep_inputs *in);

#endif
