/* The CMS signature of a code signature.  Input: zero to six CodeDirectory blobs (0xfade0c02,
 * each as long as its header says; the first is slot 0, the signed content) followed by a
 * BlobWrapper payload.  The CMS is parsed and, with at least one CodeDirectory, verified over
 * them at a fixed "now", first trusting only the pinned Apple Root CA (seeds made from real
 * signatures reach the CDHashes, chain, team and timestamp checks), then trusting every
 * certificate it carries. */
#include <stdint.h>
#include <stdio.h>

#include "cms.h"
#include "superblob.h"

#define FUZZ_NOW 1735689600 /* 2025-01-01 */
#define FUZZ_MAX_CDS (1 + SH_MAX_ALTERNATE_CDS)

static uint32_t take_codedirs(sh_cursor *c, sh_codedir cds[FUZZ_MAX_CDS])
{
    uint32_t n = 0, magic, length;
    while (n < FUZZ_MAX_CDS && sh_cursor_u32be_at(c, 0, &magic) &&
           magic == SH_MAGIC_CODEDIRECTORY && sh_cursor_u32be_at(c, 4, &length)) {
        sh_cursor blob;
        sh_error err;
        if (!sh_cursor_take(c, length, &blob) || sh_codedir_parse(&blob, &cds[n], &err) != SH_E_OK)
            break;
        n++;
    }
    return n;
}

static uint32_t strongest(const sh_codedir cds[], uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (sh_hash_rank(cds[i].hash_type) > sh_hash_rank(cds[best].hash_type))
            best = i;
    return best;
}

static void verify(const sh_cms *cms, const sh_codedir cds[], uint32_t ncds, const sh_trust *trust)
{
    sh_cms_code code = {.cds = cds, .ncds = ncds, .best = strongest(cds, ncds)};
    sh_cms_options opt = {.now = FUZZ_NOW, .trust = *trust};
    sh_cms_report report;
    sh_error err = {0};
    sh_cms_verify(cms, &code, &opt, &report, &err);
    char line[128], msg[512];
    sh_cms_time_line(&report, line, sizeof line);
    sh_error_format(&err, msg, sizeof msg);
    volatile const char *sink = sh_cms_stage_name(report.failed_stage);
    sink = sh_cert_kind_name(report.leaf_kind);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_cursor c = sh_cursor_make(data, size);
    sh_codedir cds[FUZZ_MAX_CDS];
    uint32_t ncds = take_codedirs(&c, cds);
    sh_cms cms;
    sh_error err = {0};
    if (sh_cms_parse(&c, &cms, &err) == SH_E_OK && ncds > 0) {
        sh_trust pinned_only = {0};
        verify(&cms, cds, ncds, &pinned_only);
        /* Again trusting every certificate the CMS carries, as a caller naming its test root
         * would: mutated chains then get past the anchor to the team, expiry and timestamp
         * rules. */
        X509 *anchors[SH_MAX_CMS_CERTS];
        sh_trust all = {.anchor_x509 = anchors, .n_anchor_x509 = 0};
        for (uint32_t i = 0; i < cms.ncerts && i < SH_MAX_CMS_CERTS; i++)
            anchors[all.n_anchor_x509++] = sk_X509_value(cms.certs, (int)i);
        verify(&cms, cds, ncds, &all);
    }
    sh_cms_free(&cms);
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    return 0;
}
