/* Sign whatever the input describes, then verify: the result must always verify.  A failure is
 * a real bug in the synthesiser, the signer or the verifier, so this target abort()s on it (the
 * one place in the project where that is the point).
 *
 * Input (every field optional; missing bytes read as 0):
 *   0      shape: bits 0-1 architectures (0 arm64, 1 x86_64, 2 fat arm64+x86_64,
 *          3 fat x86_64+arm64); bit 2 hardened runtime; bit 3 dual hash (SHA-1 + SHA-256);
 *          bit 4 secure timestamp; bit 5 sign the signed output again with the same options: the bytes must
 *          not change (re-signing is idempotent).  The start is always the synthesiser's ad
 *          hoc signature, replaced with force: its unsigned output has no header padding for a
 *          new LC_CODE_SIGNATURE (by design, see tests/test_signer.c)
 *   1      identity, modulo 3: ad hoc, devid-team1 (Developer ID), dev-team1 (Apple Development)
 *   2      entitlements set, modulo SH_FM_ENTITLEMENT_SETS (0: none)
 *   3..4   __text size minus SIGN_VERIFY_MIN_TEXT, little-endian (the entry stub needs room)
 *   5..12  synthesis seed, little-endian
 *   13..   identifier bytes up to the first NUL (at most SIGN_VERIFY_MAX_IDENTIFIER; empty:
 *          "com.example.fuzz")
 * An identifier the requirement language cannot express (the designated requirement quoting it
 * does not compile) must be refused; any other refusal of a synthesised binary is a bug.
 *
 * Verification is `sigharness inspect` (harness/inspect.h) with the test root trusted, at the
 * signing time, over the signed bytes in a memfd (inspect reads a path; /proc/self/fd/N avoids
 * touching the disk).  Besides the exit code the checks compare what was asked for with what
 * was found: identifier, runtime flag, number of CodeDirectories, ad hoc vs CMS, the leaf's
 * team, the timestamp, the entitlements. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codedir.h"
#include "fuzz_mutator.h"
#include "inspect.h"
#include "macho_synth.h"
#include "readfile.h"
#include "requirement.h"
#include "signer.h"

#define SIGN_VERIFY_MAX_IDENTIFIER 255u
#define SIGN_VERIFY_MIN_TEXT 64u /* above the synthesiser's entry stubs */
#define SIGN_VERIFY_TIME 1704067200 /* 2024-01-01: inside the test PKI's validity */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once: the engine API gives the target no context to keep them in. */
static struct {
    sh_pki_identity ids[2];
    sh_pki_tsa tsa;
    uint8_t *root_der;
    size_t root_der_len;
    bool loaded;
} pki;

static void release_pki(void)
{
    sh_pki_identity_free(&pki.ids[0]);
    sh_pki_identity_free(&pki.ids[1]);
    sh_pki_tsa_free(&pki.tsa);
    free(pki.root_der);
}

/* Without the test PKI (an OSS-Fuzz runner has no source tree) every request signs ad hoc. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char why[SH_PKI_WHY_MAX] = "corpus/pki/root.cert.der unreadable", path[4096];
    const char *why_read;
    snprintf(path, sizeof path, "%s/root.cert.der", sh_pki_default_dir());
    atexit(release_pki);
    if (!sh_pki_load_identity(NULL, "devid-team1", &pki.ids[0], why, sizeof why) ||
        !sh_pki_load_identity(NULL, "dev-team1", &pki.ids[1], why, sizeof why) ||
        !sh_pki_load_tsa(NULL, &pki.tsa, why, sizeof why) ||
        sh_read_file(path, &pki.root_der, &pki.root_der_len, &why_read) != SH_E_OK) {
        fprintf(stderr, "fuzz_sign_verify: no test PKI (%s): ad hoc signing only\n", why);
        return 0;
    }
    pki.loaded = true;
    return 0;
}

typedef struct request {
    unsigned arches; /* 0..3, see the top */
    bool runtime, dual_hash, timestamp, twice;
    const sh_pki_identity *identity;
    unsigned entitlements;
    uint16_t text_size;
    uint64_t seed;
    char identifier[SIGN_VERIFY_MAX_IDENTIFIER + 1];
} request;

static void decode(const uint8_t *data, size_t size, request *rq)
{
    sh_cursor c = sh_cursor_make(data, size);
    uint8_t shape = 0, identity = 0, ent = 0;
    memset(rq, 0, sizeof *rq);
    sh_cursor_u8(&c, &shape);
    sh_cursor_u8(&c, &identity);
    sh_cursor_u8(&c, &ent);
    sh_cursor_u16le(&c, &rq->text_size);
    sh_cursor_u64le(&c, &rq->seed);
    rq->arches = shape & 3u;
    rq->runtime = shape & 4u;
    rq->dual_hash = shape & 8u;
    rq->timestamp = shape & 16u;
    rq->twice = shape & 32u;
    rq->identity = pki.loaded && identity % 3 ? &pki.ids[identity % 3 - 1] : NULL;
    rq->entitlements = ent % SH_FM_ENTITLEMENT_SETS;
    size_t n = sh_cursor_len(&c) < SIGN_VERIFY_MAX_IDENTIFIER ? sh_cursor_len(&c)
                                                               : SIGN_VERIFY_MAX_IDENTIFIER;
    sh_cursor_copy(&c, rq->identifier, n);
    rq->identifier[n] = '\0'; /* the identifier ends at the first NUL, if any */
    if (!rq->identifier[0])
        strcpy(rq->identifier, "com.example.fuzz");
}

static _Noreturn void fail(const request *rq, const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_sign_verify: %s%s%s (arches %u, identity %s, runtime %d, dual %d, "
                    "timestamp %d, twice %d, entitlements %u, text %u, seed %llu, "
                    "identifier \"%s\")\n",
            what, detail ? ": " : "", detail ? detail : "", rq->arches,
            rq->identity ? rq->identity->name : "ad hoc", rq->runtime, rq->dual_hash,
            rq->timestamp, rq->twice, rq->entitlements, rq->text_size,
            (unsigned long long)rq->seed, rq->identifier);
    abort();
}

static void synthesise(const request *rq, sh_bytebuf *out)
{
    sh_synth_spec specs[2];
    sh_synth_arch first = rq->arches == 1 || rq->arches == 3 ? SH_SYNTH_X86_64 : SH_SYNTH_ARM64;
    size_t n = rq->arches >= 2 ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        sh_synth_arch arch = i == 0 ? first : (first == SH_SYNTH_ARM64 ? SH_SYNTH_X86_64
                                                                        : SH_SYNTH_ARM64);
        sh_synth_spec_init(&specs[i], arch, "com.example.synth");
        specs[i].text_size = SIGN_VERIFY_MIN_TEXT + (uint64_t)rq->text_size;
        specs[i].seed = rq->seed + i;
    }
    sh_write_error err = {SH_W_OK, NULL};
    sh_write_status st = n == 1 ? sh_synth_thin(&specs[0], out, NULL, &err)
                                : sh_synth_fat(specs, n, out, NULL, &err);
    if (st != SH_W_OK)
        fail(rq, "synthesis failed", err.what);
}

static void check_slice(const request *rq, const sh_slice_check *s)
{
    const sh_signature *sig = &s->signature;
    const sh_codedir *cd = &sig->cds[0];
    if (strlen(rq->identifier) != cd->identifier_len ||
        memcmp(rq->identifier, cd->identifier, cd->identifier_len) != 0)
        fail(rq, "the CodeDirectory carries another identifier", cd->identifier);
    if (!!(cd->flags & SH_CS_RUNTIME) != rq->runtime)
        fail(rq, "CS_RUNTIME does not match the request", NULL);
    if (sig->ncds != (rq->dual_hash ? 2u : 1u))
        fail(rq, "wrong number of CodeDirectories", NULL);
    if (s->cms.adhoc != (rq->identity == NULL))
        fail(rq, "ad hoc state does not match the identity", NULL);
    if (rq->identity && strcmp(s->cms.leaf.ou, rq->identity->team) != 0)
        fail(rq, "the leaf certificate's team differs", s->cms.leaf.ou);
    if (rq->identity && s->cms.has_timestamp != rq->timestamp)
        fail(rq, "timestamp presence does not match the request", NULL);
    if (s->entitlements.xml_present != (rq->entitlements != 0) ||
        s->entitlements.der_present != (rq->entitlements != 0))
        fail(rq, "entitlements blobs do not match the request", NULL);
}

static void verify(const request *rq, const uint8_t *file, size_t len)
{
    int fd = memfd_create("fuzz_sign_verify", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        exit(2);
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, file + done, len - done);
        if (w <= 0) {
            perror("write");
            exit(2);
        }
        done += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sh_cursor root = sh_cursor_make(pki.root_der, pki.root_der_len);
    sh_inspect_options opt = {.now = SIGN_VERIFY_TIME};
    opt.trust.anchor_der = &root;
    opt.trust.n_anchor_der = 1;
    sh_inspection in;
    sh_inspect_file(path, &opt, &in);
    close(fd);
    if (in.exit_code != SH_EXIT_OK) {
        sh_inspection_print_text(&in, &opt, stderr);
        fail(rq, "the signed file does not verify", NULL);
    }
    if (in.macho.nslices != (rq->arches >= 2 ? 2u : 1u))
        fail(rq, "wrong number of slices", NULL);
    for (uint32_t i = 0; i < in.macho.nslices; i++)
        check_slice(rq, &in.slices[i]);
    sh_inspection_free(&in);
}

/* Whether the signer can quote the identifier and the designated requirement it will write
 * for this identity compiles (ad hoc signatures carry none). */
static bool identifier_expressible(const request *rq)
{
    char dr[2 * SIGN_VERIFY_MAX_IDENTIFIER + 512], text[sizeof dr + 16];
    if (!sh_sign_designated_text(rq->identity, rq->identifier, dr, sizeof dr))
        return false;
    if (!rq->identity)
        return true;
    snprintf(text, sizeof text, "designated => %s", dr);
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    sh_req_diag diag = {0};
    sh_error err;
    sh_err e = sh_req_compile(text, strlen(text), SH_REQ_PARSE_SET, NULL, &blob, &blob_len, &diag,
                              &err);
    sh_free(NULL, blob);
    return e == SH_E_OK;
}

/* Same input, same options, same bytes: signing our own output again changes nothing. */
static void sign_again(const request *rq, const sh_sign_options *o, const sh_bytebuf *first)
{
    sh_bytebuf second;
    sh_bytebuf_init(&second, NULL);
    sh_sign_result r;
    if (sh_sign_macho(first->data, first->len, o, &second, &r) != SH_SIGN_OK)
        fail(rq, "the signer refused its own output", r.message);
    if (second.len != first->len || memcmp(second.data, first->data, first->len) != 0)
        fail(rq, "re-signing with the same options changed the bytes", NULL);
    sh_bytebuf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    request rq;
    decode(data, size, &rq);
    sh_bytebuf unsigned_file, signed_file;
    sh_bytebuf_init(&unsigned_file, NULL);
    sh_bytebuf_init(&signed_file, NULL);
    synthesise(&rq, &unsigned_file);

    sh_sign_options o;
    size_t ent_len;
    sh_sign_options_init(&o, rq.identifier);
    o.identity = rq.identity;
    o.tsa = rq.identity && rq.timestamp ? &pki.tsa : NULL;
    o.runtime = rq.runtime;
    o.dual_hash = rq.dual_hash;
    o.force = true;
    o.signing_time = SIGN_VERIFY_TIME;
    o.entitlements = (const uint8_t *)sh_fm_entitlements(rq.entitlements, &ent_len);
    o.entitlements_len = ent_len;
    sh_sign_result r;
    sh_sign_status st = sh_sign_macho(unsigned_file.data, unsigned_file.len, &o, &signed_file, &r);
    bool expressible = identifier_expressible(&rq);
    if (st == SH_SIGN_OK && !expressible)
        fail(&rq, "signed with a designated requirement that does not compile", NULL);
    if (st == SH_SIGN_OK) {
        verify(&rq, signed_file.data, signed_file.len);
        if (rq.twice)
            sign_again(&rq, &o, &signed_file);
    } else if (expressible) {
        fail(&rq, "the signer refused a synthesised binary", r.message);
    }
    sh_bytebuf_free(&unsigned_file);
    sh_bytebuf_free(&signed_file);
    return 0;
}
