/* Seed-corpus helper: for each Mach-O given, writes every slice's embedded SuperBlob to
 * OUTDIR/fuzz_superblob/, every CodeDirectory to OUTDIR/fuzz_codedir/, and its CMS (the
 * BlobWrapper's payload) and the CMS's timestamp token to OUTDIR/fuzz_signed_data/, named after
 * the input file, the architecture and the slot.  Used by scripts/make-seeds.sh. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cms.h"
#include "macho.h"
#include "readfile.h"
#include "signature.h"

static int write_blob(const char *dir, const char *name, const sh_cursor *blob)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(blob->p, 1, blob->len, f) != blob->len) {
        fprintf(stderr, "seed_extract: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return 1;
    }
    printf("%s\n", path);
    return fclose(f) != 0;
}

/* The CMS payload and its timestamp token, when the slice has them. */
static int extract_cms(const sh_signature *sig, const char *base, const char *arch,
                       const char *outdir)
{
    const sh_blob_entry *wrapper = sh_signature_cms(sig);
    sh_cursor payload;
    if (!wrapper || !sh_cursor_tail(&wrapper->blob, 8, &payload) || payload.len == 0)
        return 0;
    char dir[4096], name[1024];
    snprintf(dir, sizeof dir, "%s/fuzz_signed_data", outdir);
    snprintf(name, sizeof name, "%s-%s.cms", base, arch);
    int failed = write_blob(dir, name, &payload);
    sh_cms cms;
    sh_error err;
    if (sh_cms_parse(&payload, &cms, &err) == SH_E_OK && cms.has_timestamp) {
        snprintf(name, sizeof name, "%s-%s.timestamp", base, arch);
        failed |= write_blob(dir, name, &cms.timestamp_token);
    }
    sh_cms_free(&cms);
    return failed;
}

static int extract_slice(const sh_macho_slice *s, const char *base, const char *outdir)
{
    sh_error err;
    sh_cursor data;
    sh_signature sig;
    if (sh_macho_signature(s, &data, &err) != SH_E_OK ||
        sh_signature_parse(&data, &sig, &err) != SH_E_OK)
        return 0; /* unsigned or malformed slices have nothing to extract */
    const char *arch = sh_macho_cpu_name(s->cputype, s->cpusubtype);
    char dir[4096], name[1024];
    int failed = 0;
    snprintf(dir, sizeof dir, "%s/fuzz_superblob", outdir);
    snprintf(name, sizeof name, "%s-%s.superblob", base, arch);
    failed |= write_blob(dir, name, &sig.superblob.blob);
    snprintf(dir, sizeof dir, "%s/fuzz_codedir", outdir);
    for (uint32_t i = 0; i < sig.ncds; i++) {
        snprintf(name, sizeof name, "%s-%s-%" PRIx32 ".codedir", base, arch, sig.cd_slots[i]);
        failed |= write_blob(dir, name, &sig.cds[i].blob);
    }
    return failed | extract_cms(&sig, base, arch, outdir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seed_extract OUTDIR MACHO...\n");
        return 2;
    }
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        uint8_t *data;
        size_t size;
        const char *why;
        if (sh_read_file(argv[i], &data, &size, &why) != SH_E_OK) {
            fprintf(stderr, "seed_extract: %s: %s\n", argv[i], why);
            failed = 1;
            continue;
        }
        sh_macho_file m;
        sh_error err;
        if (sh_macho_parse(data, size, NULL, &m, &err) == SH_E_OK) {
            char *copy = strdup(argv[i]);
            for (uint32_t k = 0; copy && k < m.nslices; k++)
                failed |= extract_slice(&m.slices[k], basename(copy), argv[1]);
            free(copy);
        }
        sh_macho_free(&m);
        free(data);
    }
    return failed;
}
