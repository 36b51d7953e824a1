/* The Mach-O synthesiser and the signature writers, checked three independent ways:
 * - the project's parsers read every synthesised file back (structure, signature, special
 *   slots, page hashes) and find exactly what was asked for;
 * - llvm-objdump-14 agrees on the load commands, segment offsets, signature location and fat
 *   placement (the test fails, not skips, when llvm-objdump-14 is missing);
 * - "golden" group (run as `test_synth golden`, needs the samples fixture): the writer rebuilds
 *   the CodeDirectory and SuperBlob of Go's linker-signed binary byte for byte, and the page
 *   hashes of ld64.lld's signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codedir_writer.h"
#include "hash.h"
#include "macho.h"
#include "macho_synth.h"
#include "sample_path.h"
#include "signature.h"

#define IDENT "com.example.synth"

/* ---- helpers ------------------------------------------------------------------------------ */

static void synth_thin_or_fail(const sh_synth_spec *spec, sh_bytebuf *out, sh_synth_layout *l)
{
    sh_write_error err = {SH_W_OK, NULL};
    sh_bytebuf_init(out, NULL);
    sh_write_status st = sh_synth_thin(spec, out, l, &err);
    if (st != SH_W_OK)
        fail_msg("sh_synth_thin: %s (%s)", sh_write_status_name(st), err.what ? err.what : "");
}

static void parse_or_fail(const uint8_t *data, size_t len, sh_macho_file *f)
{
    sh_error err;
    memset(&err, 0, sizeof err);
    sh_err e = sh_macho_parse(data, len, NULL, f, &err);
    if (e != SH_E_OK) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        fail_msg("sh_macho_parse: %s: %s", sh_err_name(e), msg);
    }
}

static void expect_ok(sh_err e, const sh_error *err, const char *what)
{
    if (e == SH_E_OK)
        return;
    char msg[256];
    sh_error_format(err, msg, sizeof msg);
    fail_msg("%s: %s: %s", what, sh_err_name(e), msg);
}

/* The slice's segments and commands are what the layout promised. */
static void check_slice_structure(const sh_macho_slice *s, const sh_synth_layout *l)
{
    assert_int_equal(s->cputype, l->cputype);
    assert_int_equal(s->cpusubtype, l->cpusubtype);
    assert_int_equal(s->filetype, SH_MH_EXECUTE);
    assert_int_equal(s->ncmds, l->ncmds);
    assert_int_equal(s->sizeofcmds, l->sizeofcmds);
    for (uint32_t i = 0; i < l->ncmds; i++)
        assert_int_equal(s->commands[i].cmd, l->cmds[i]);
    assert_int_equal(s->nsegments, SH_SYNTH_NSEGMENTS);
    for (uint32_t i = 0; i < SH_SYNTH_NSEGMENTS; i++) {
        assert_string_equal(s->segments[i].segname, l->segments[i].name);
        assert_true(s->segments[i].fileoff == l->segments[i].fileoff);
        assert_true(s->segments[i].filesize == l->segments[i].filesize);
        assert_true(s->segments[i].vmaddr == l->segments[i].vmaddr);
        assert_true(s->segments[i].vmsize == l->segments[i].vmsize);
    }
    const sh_macho_segment *linkedit = &s->segments[3];
    assert_true(linkedit->fileoff + linkedit->filesize == s->size);
    assert_true(s->size == l->file_size);
    assert_true(s->has_uuid && s->has_main && s->has_build_version);
    assert_true(s->entryoff == l->text_offset);
    assert_int_equal(s->platform, SH_PLATFORM_MACOS);
    assert_int_equal(s->minos, 0x000b0000);
    assert_int_equal(s->sdk, 0x000e0000);
    assert_int_equal(s->ntools, 1);
    assert_int_equal(s->tools[0].tool, SH_TOOL_LD);
    assert_int_equal(s->ndylibs, 1);
    assert_string_equal(s->dylibs[0].name, "/usr/lib/libSystem.B.dylib");
    assert_true(s->code_signature.present);
    assert_true(s->code_signature.dataoff == l->signature_offset);
    assert_true(s->code_signature.datasize == l->signature_size);
    assert_int_equal(s->code_signature.dataoff % 16, 0);
}

/* What every CodeDirectory of the signature must say. */
static void check_codedir_fields(const sh_codedir *cd, const sh_synth_layout *l, uint8_t hash_type)
{
    const sh_cd_params *want = &l->sig.cd;
    assert_int_equal(cd->identifier_len, strlen(want->identifier));
    assert_memory_equal(cd->identifier, want->identifier, cd->identifier_len);
    assert_int_equal(cd->version, want->version);
    assert_int_equal(cd->flags, want->flags);
    assert_int_equal(cd->hash_type, hash_type);
    assert_int_equal(cd->hash_size, sh_hash_size(hash_type));
    assert_int_equal(cd->page_shift, want->page_shift);
    assert_true(cd->effective_limit == l->signature_offset);
    if (want->version >= SH_CD_VERSION_EXECSEG) {
        assert_true(cd->exec_seg_base == l->segments[1].fileoff);
        assert_true(cd->exec_seg_limit == l->segments[1].filesize);
        assert_true(cd->exec_seg_flags & SH_CS_EXECSEG_MAIN_BINARY);
    }
    if (want->team_id) {
        assert_non_null(cd->team_id);
        assert_memory_equal(cd->team_id, want->team_id, strlen(want->team_id));
    } else {
        assert_null(cd->team_id);
    }
}

/* Signature, special slots and every page of every CodeDirectory check out. */
static void check_slice_signature(const sh_macho_slice *s, const sh_synth_layout *l)
{
    sh_error err;
    sh_cursor sigdata;
    sh_signature sig;
    memset(&err, 0, sizeof err);
    expect_ok(sh_macho_signature(s, &sigdata, &err), &err, "sh_macho_signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "sh_signature_parse");
    expect_ok(sh_signature_check_special_slots(&sig, &err), &err, "special slots");
    assert_int_equal(sig.ncds, 1 + l->sig.n_alternates);
    assert_int_equal(sig.superblob.length, l->superblob_size);
    check_codedir_fields(&sig.cds[0], l, l->sig.cd.hash_type);
    for (uint32_t i = 0; i < l->sig.n_alternates; i++) {
        assert_int_equal(sig.cd_slots[1 + i], SH_SLOT_ALTERNATE_CODEDIRECTORIES + i);
        check_codedir_fields(&sig.cds[1 + i], l, l->sig.alternate_hash_types[i]);
    }
    for (uint32_t i = 0; i < sig.ncds; i++) {
        sh_page_report report;
        expect_ok(sh_codedir_verify_pages(&sig.cds[i], &s->data, &report, &err), &err,
                  "sh_codedir_verify_pages");
        assert_int_equal(report.pages_bad, 0);
        assert_int_equal(report.pages_checked, sig.cds[i].n_code_slots);
        assert_int_equal(report.first_bad, -1);
    }
    assert_true(sh_signature_cms_empty(&sig));
    assert_int_equal(l->sig.empty_cms, sh_signature_cms(&sig) != NULL);
}

static void check_file(const sh_bytebuf *b, const sh_synth_layout *layouts, size_t n)
{
    sh_macho_file f;
    sh_error err;
    memset(&err, 0, sizeof err);
    parse_or_fail(b->data, b->len, &f);
    assert_int_equal(f.nslices, n);
    sh_err st = sh_macho_check_structure(&f, &err);
    if (st != SH_E_OK)
        sh_macho_free(&f);
    expect_ok(st, &err, "sh_macho_check_structure");
    for (size_t i = 0; i < n; i++) {
        check_slice_structure(&f.slices[i], &layouts[i]);
        check_slice_signature(&f.slices[i], &layouts[i]);
    }
    sh_macho_free(&f);
}

/* ---- llvm-objdump ------------------------------------------------------------------------- */

typedef struct od_segment {
    char name[32];
    uint64_t fileoff, filesize;
} od_segment;

typedef struct od_slice {
    char cmds[16][40];
    size_t ncmds;
    od_segment segs[8];
    size_t nsegs;
    uint64_t sig_dataoff, sig_datasize;
} od_slice;

typedef struct od_fat_arch {
    uint64_t offset, size, align;
} od_fat_arch;

typedef struct od_report {
    od_slice slices[4];
    size_t nslices;
    od_fat_arch archs[4];
    size_t narchs;
} od_report;

/* Parser state while reading objdump's text. */
typedef struct od_state {
    od_report *r;
    bool in_fat_header, in_section;
    const char *cmd; /* current load command name, or NULL */
} od_state;

static const char *trim(char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    return line;
}

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static uint64_t number_after(const char *s, const char *prefix)
{
    return strtoull(s + strlen(prefix), NULL, 0);
}

static void od_fat_line(od_state *st, const char *t)
{
    od_report *r = st->r;
    if (starts(t, "architecture ") && r->narchs < 4) {
        r->narchs++;
        return;
    }
    if (r->narchs == 0)
        return;
    od_fat_arch *a = &r->archs[r->narchs - 1];
    if (starts(t, "offset "))
        a->offset = number_after(t, "offset ");
    else if (starts(t, "size "))
        a->size = number_after(t, "size ");
    else if (starts(t, "align 2^"))
        a->align = number_after(t, "align 2^");
}

static void od_segment_line(od_slice *s, const char *t)
{
    if (starts(t, "segname ") && s->nsegs < 8) {
        snprintf(s->segs[s->nsegs].name, sizeof s->segs[0].name, "%s", t + strlen("segname "));
        s->nsegs++;
    } else if (s->nsegs && starts(t, "fileoff ")) {
        s->segs[s->nsegs - 1].fileoff = number_after(t, "fileoff ");
    } else if (s->nsegs && starts(t, "filesize ")) {
        s->segs[s->nsegs - 1].filesize = number_after(t, "filesize ");
    }
}

static void od_command_line(od_state *st, const char *t)
{
    od_slice *s = &st->r->slices[st->r->nslices - 1];
    if (starts(t, "cmd ") && s->ncmds < 16) {
        snprintf(s->cmds[s->ncmds], sizeof s->cmds[0], "%s", t + strlen("cmd "));
        st->cmd = s->cmds[s->ncmds++];
    } else if (st->cmd && strcmp(st->cmd, "LC_SEGMENT_64") == 0 && !st->in_section) {
        od_segment_line(s, t);
    } else if (st->cmd && strcmp(st->cmd, "LC_CODE_SIGNATURE") == 0) {
        if (starts(t, "dataoff "))
            s->sig_dataoff = number_after(t, "dataoff ");
        else if (starts(t, "datasize "))
            s->sig_datasize = number_after(t, "datasize ");
    }
}

static void od_line(od_state *st, const char *t)
{
    if (strcmp(t, "Fat headers") == 0) {
        st->in_fat_header = true;
    } else if (strcmp(t, "Mach header") == 0) {
        st->in_fat_header = false;
        if (st->r->nslices < 4)
            st->r->nslices++;
        st->cmd = NULL;
    } else if (st->in_fat_header) {
        od_fat_line(st, t);
    } else if (st->r->nslices == 0) {
        return;
    } else if (starts(t, "Load command ")) {
        st->cmd = NULL;
        st->in_section = false;
    } else if (strcmp(t, "Section") == 0) {
        st->in_section = true;
    } else {
        od_command_line(st, t);
    }
}

static void write_temp_file(const sh_bytebuf *b, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/sh_synth_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

/* Runs llvm-objdump-14 on the bytes and parses what it prints.  Missing tool = failure. */
static void objdump(const sh_bytebuf *b, bool fat, od_report *r)
{
    char path[512], cmd[1024], line[512];
    write_temp_file(b, path, sizeof path);
    snprintf(cmd, sizeof cmd, "llvm-objdump-14 --macho --private-headers %s '%s' 2>&1",
             fat ? "--universal-headers --arch=all" : "", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    memset(r, 0, sizeof *r);
    od_state st = {r, false, false, NULL};
    while (fgets(line, sizeof line, p))
        od_line(&st, trim(line));
    int status = pclose(p);
    unlink(path);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("llvm-objdump-14 failed (exit %d): is it installed? (apt-get install llvm-14)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static const char *command_name(uint32_t cmd)
{
    switch (cmd) {
    case SH_LC_SEGMENT_64: return "LC_SEGMENT_64";
    case SH_LC_LOAD_DYLINKER: return "LC_LOAD_DYLINKER";
    case SH_LC_UUID: return "LC_UUID";
    case SH_LC_BUILD_VERSION: return "LC_BUILD_VERSION";
    case SH_LC_MAIN: return "LC_MAIN";
    case SH_LC_LOAD_DYLIB: return "LC_LOAD_DYLIB";
    case SH_LC_FUNCTION_STARTS: return "LC_FUNCTION_STARTS";
    case SH_LC_CODE_SIGNATURE: return "LC_CODE_SIGNATURE";
    default: return "?";
    }
}

static void check_objdump_slice(const od_slice *s, const sh_synth_layout *l)
{
    assert_int_equal(s->ncmds, l->ncmds);
    for (size_t i = 0; i < s->ncmds; i++)
        assert_string_equal(s->cmds[i], command_name(l->cmds[i]));
    assert_int_equal(s->nsegs, SH_SYNTH_NSEGMENTS);
    for (size_t i = 0; i < s->nsegs; i++) {
        assert_string_equal(s->segs[i].name, l->segments[i].name);
        assert_true(s->segs[i].fileoff == l->segments[i].fileoff);
        assert_true(s->segs[i].filesize == l->segments[i].filesize);
    }
    assert_true(s->sig_dataoff == l->signature_offset);
    assert_true(s->sig_datasize == l->signature_size);
}

/* ---- thin, fat, dual hash ----------------------------------------------------------------- */

static void thin_slice_round_trip(sh_synth_arch arch)
{
    sh_synth_spec spec;
    sh_synth_layout l;
    sh_bytebuf b;
    od_report r;
    sh_synth_spec_init(&spec, arch, IDENT);
    synth_thin_or_fail(&spec, &b, &l);
    assert_int_equal(l.page_size, arch == SH_SYNTH_ARM64 ? 0x4000 : 0x1000);
    for (int i = 1; i < 4; i++)
        assert_int_equal(l.segments[i].fileoff % l.page_size, 0);
    objdump(&b, false, &r);
    assert_int_equal(r.nslices, 1);
    check_objdump_slice(&r.slices[0], &l);
    check_file(&b, &l, 1);
    sh_bytebuf_free(&b);
}

static void thin_arm64_parses_and_verifies(void **state)
{
    (void)state;
    thin_slice_round_trip(SH_SYNTH_ARM64);
}

static void thin_x86_64_parses_and_verifies(void **state)
{
    (void)state;
    thin_slice_round_trip(SH_SYNTH_X86_64);
}

static void fat_slices_are_aligned_and_each_signed(void **state)
{
    (void)state;
    sh_synth_spec specs[2];
    sh_synth_layout layouts[2];
    sh_fat_placement placed[2];
    sh_write_error err = {SH_W_OK, NULL};
    sh_bytebuf b;
    od_report r;
    /* arm64 first on input: cctools places the 2^12-aligned x86_64 slice first anyway. */
    sh_synth_spec_init(&specs[0], SH_SYNTH_ARM64, IDENT);
    sh_synth_spec_init(&specs[1], SH_SYNTH_X86_64, IDENT);
    specs[1].text_size = 10000;
    sh_bytebuf_init(&b, NULL);
    assert_int_equal(sh_synth_fat(specs, 2, &b, placed, &err), SH_W_OK);
    assert_int_equal(placed[0].input_index, 1);
    assert_int_equal(placed[0].offset, 0x1000);
    assert_int_equal(placed[0].align, 12);
    assert_int_equal(placed[1].input_index, 0);
    assert_int_equal(placed[1].align, 14);
    assert_int_equal(placed[1].offset % 0x4000, 0);
    assert_true((uint64_t)placed[1].offset + placed[1].size == b.len);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(sh_synth_layout_compute(&specs[placed[i].input_index], &layouts[i], &err),
                         SH_W_OK);

    objdump(&b, true, &r);
    assert_int_equal(r.narchs, 2);
    assert_int_equal(r.nslices, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_true(r.archs[i].offset == placed[i].offset);
        assert_true(r.archs[i].size == placed[i].size);
        assert_true(r.archs[i].align == placed[i].align);
        check_objdump_slice(&r.slices[i], &layouts[i]);
    }
    check_file(&b, layouts, 2);
    sh_bytebuf_free(&b);
}

static void dual_hash_has_sha1_primary_and_sha256_alternate(void **state)
{
    (void)state;
    sh_synth_spec spec;
    sh_synth_layout l;
    sh_bytebuf b;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, IDENT);
    sh_sig_params_dual_hash(&spec.sig);
    spec.sig.cd.team_id = "ABCDE12345";
    synth_thin_or_fail(&spec, &b, &l);
    assert_int_equal(l.sig.cd.hash_type, SH_HASH_SHA1);
    assert_int_equal(l.sig.alternate_hash_types[0], SH_HASH_SHA256);
    check_file(&b, &l, 1);
    sh_bytebuf_free(&b);
}

static void sha384_and_every_version_read_back(void **state)
{
    (void)state;
    static const uint32_t versions[] = {0x20100, 0x20200, 0x20300, 0x20400, 0x20500};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        sh_synth_spec spec;
        sh_synth_layout l;
        sh_bytebuf b;
        sh_synth_spec_init(&spec, i % 2 ? SH_SYNTH_X86_64 : SH_SYNTH_ARM64, IDENT);
        spec.sig.cd.version = versions[i];
        spec.sig.cd.hash_type = SH_HASH_SHA384;
        spec.sig.cd.flags = SH_CS_ADHOC | (versions[i] >= 0x20500 ? SH_CS_RUNTIME : 0);
        if (versions[i] >= SH_CD_VERSION_TEAM)
            spec.sig.cd.team_id = "TEAMID1234";
        if (versions[i] >= SH_CD_VERSION_RUNTIME)
            spec.sig.cd.runtime = 0x000e0000;
        spec.text_size = 20000 + i;
        synth_thin_or_fail(&spec, &b, &l);
        check_file(&b, &l, 1);
        sh_bytebuf_free(&b);
    }
}

/* A standalone CodeDirectory of each version: header size and fields where the parser reads them. */
static void codedir_layout_per_version(void **state)
{
    (void)state;
    static const uint8_t code[5000] = {1, 2, 3};
    static const struct { uint32_t version; size_t header; } cases[] = {
        {0x20001, 0x2C}, {0x20100, 0x30}, {0x20200, 0x34}, {0x20300, 0x40},
        {0x20400, 0x58}, {0x20500, 0x60}, {0x20600, 0x6C}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_cd_params p;
        sh_bytebuf b;
        sh_codedir cd;
        sh_error err;
        memset(&err, 0, sizeof err);
        sh_cd_params_init(&p, "x");
        p.version = cases[i].version;
        p.flags = SH_CS_ADHOC;
        sh_bytebuf_init(&b, NULL);
        assert_int_equal(sh_cd_header_size(p.version), cases[i].header);
        assert_int_equal(sh_cd_write(&p, code, sizeof code, &b, NULL), SH_W_OK);
        /* header, "x\0", two SHA-256 code slots, nothing else */
        assert_int_equal(b.len, cases[i].header + 2 + 2 * 32);
        sh_cursor c = sh_cursor_make(b.data, b.len);
        expect_ok(sh_codedir_parse(&c, &cd, &err), &err, "sh_codedir_parse");
        assert_int_equal(cd.header_size, cases[i].header);
        assert_int_equal(cd.ident_offset, cases[i].header);
        assert_int_equal(cd.hash_offset, cases[i].header + 2);
        assert_int_equal(cd.n_code_slots, 2);
        assert_int_equal(cd.n_special_slots, 0);
        assert_true(cd.effective_limit == sizeof code);
        sh_page_report report;
        sh_cursor all = sh_cursor_make(code, sizeof code);
        expect_ok(sh_codedir_verify_pages(&cd, &all, &report, &err), &err, "verify");
        sh_bytebuf_free(&b);
    }
}

/* Slots 1 and 3 hash files outside the signature; 2, 5 and 7 seal blobs embedded in it. */
static void special_slots_hash_what_was_given(void **state)
{
    (void)state;
    static const char plist[] = "<plist><dict/></plist>";
    static const char resources[] = "<plist>resources</plist>";
    static const char xml[] = "<plist><dict><key>com.apple.security.app-sandbox</key><true/></dict></plist>";
    static const uint8_t der_payload[] = {0x70, 0x03, 0x02, 0x01, 0x01};
    sh_bytebuf ent, der, b;
    sh_synth_spec spec;
    sh_synth_layout l;
    sh_bytebuf_init(&ent, NULL);
    sh_bytebuf_init(&der, NULL);
    assert_int_equal(sh_blob_write(SH_MAGIC_EMBEDDED_ENTITLEMENTS, (const uint8_t *)xml,
                                   strlen(xml), &ent, NULL), SH_W_OK);
    assert_int_equal(sh_blob_write(SH_MAGIC_EMBEDDED_DER_ENTITLEMENTS, der_payload,
                                   sizeof der_payload, &der, NULL), SH_W_OK);
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, IDENT);
    sh_cd_params *cd = &spec.sig.cd;
    cd->special[SH_SLOT_INFO] = (sh_bytes){(const uint8_t *)plist, strlen(plist)};
    cd->special[SH_SLOT_RESOURCEDIR] = (sh_bytes){(const uint8_t *)resources, strlen(resources)};
    cd->special[SH_SLOT_ENTITLEMENTS] = (sh_bytes){ent.data, ent.len};
    cd->special[SH_SLOT_DER_ENTITLEMENTS] = (sh_bytes){der.data, der.len};
    synth_thin_or_fail(&spec, &b, &l);
    check_file(&b, &l, 1);

    sh_macho_file f;
    sh_cursor sigdata, h;
    sh_signature sig;
    sh_error err;
    uint8_t want[32];
    memset(&err, 0, sizeof err);
    parse_or_fail(b.data, b.len, &f);
    expect_ok(sh_macho_signature(&f.slices[0], &sigdata, &err), &err, "signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "signature parse");
    assert_int_equal(sig.cds[0].n_special_slots, 7);
    assert_true(sh_codedir_special_hash(&sig.cds[0], SH_SLOT_INFO, &h));
    assert_true(sh_hash(SH_HASH_SHA256, (const uint8_t *)plist, strlen(plist), want));
    assert_memory_equal(h.p, want, 32);
    assert_true(sh_codedir_special_hash(&sig.cds[0], SH_SLOT_RESOURCEDIR, &h));
    assert_true(sh_hash(SH_HASH_SHA256, (const uint8_t *)resources, strlen(resources), want));
    assert_memory_equal(h.p, want, 32);
    assert_false(sh_codedir_special_present(&sig.cds[0], 4));
    assert_false(sh_codedir_special_present(&sig.cds[0], 6));
    const sh_blob_entry *e = sh_superblob_find(&sig.superblob, SH_SLOT_ENTITLEMENTS);
    assert_non_null(e);
    assert_int_equal(e->length, ent.len);
    assert_non_null(sh_superblob_find(&sig.superblob, SH_SLOT_DER_ENTITLEMENTS));
    e = sh_superblob_find(&sig.superblob, SH_SLOT_REQUIREMENTS);
    assert_non_null(e);
    assert_int_equal(e->length, SH_EMPTY_REQUIREMENTS_SIZE);
    assert_null(sh_superblob_find(&sig.superblob, SH_SLOT_INFO));
    sh_macho_free(&f);
    sh_bytebuf_free(&b);
    sh_bytebuf_free(&ent);
    sh_bytebuf_free(&der);
}

/* sign = false: the same executable without LC_CODE_SIGNATURE (input for a signer). */
static void unsigned_binary_has_no_signature(void **state)
{
    (void)state;
    sh_synth_spec spec;
    sh_synth_layout l;
    sh_bytebuf b;
    sh_macho_file f;
    sh_cursor sigdata;
    sh_error err;
    od_report r;
    memset(&err, 0, sizeof err);
    sh_synth_spec_init(&spec, SH_SYNTH_X86_64, IDENT);
    spec.sign = false;
    synth_thin_or_fail(&spec, &b, &l);
    assert_int_equal(l.ncmds, 10);
    assert_true(l.signature_offset == 0 && l.signature_size == 0);
    objdump(&b, false, &r);
    check_objdump_slice(&r.slices[0], &l);
    parse_or_fail(b.data, b.len, &f);
    expect_ok(sh_macho_check_structure(&f, &err), &err, "sh_macho_check_structure");
    assert_false(f.slices[0].code_signature.present);
    assert_true(f.slices[0].segments[3].fileoff + f.slices[0].segments[3].filesize == b.len);
    assert_int_equal(sh_macho_signature(&f.slices[0], &sigdata, &err), SH_E_MACHO_UNSIGNED);
    sh_macho_free(&f);
    sh_bytebuf_free(&b);
}

static void tampered_page_is_reported(void **state)
{
    (void)state;
    sh_synth_spec spec;
    sh_synth_layout l;
    sh_bytebuf b;
    sh_synth_spec_init(&spec, SH_SYNTH_X86_64, IDENT);
    spec.text_size = 3 * 4096;
    synth_thin_or_fail(&spec, &b, &l);
    b.data[l.text_offset + 4096 + 7] ^= 0x01; /* a byte in page 1 */
    sh_macho_file f;
    sh_cursor sigdata;
    sh_signature sig;
    sh_error err;
    sh_page_report report;
    parse_or_fail(b.data, b.len, &f);
    expect_ok(sh_macho_signature(&f.slices[0], &sigdata, &err), &err, "signature");
    expect_ok(sh_signature_parse(&sigdata, &sig, &err), &err, "signature parse");
    assert_int_equal(sh_codedir_verify_pages(&sig.cds[0], &f.slices[0].data, &report, &err),
                     SH_E_CD_PAGE_HASH_MISMATCH);
    assert_int_equal(report.pages_bad, 1);
    assert_int_equal(report.first_bad, (l.text_offset + 4096 + 7) / 4096);
    sh_macho_free(&f);
    sh_bytebuf_free(&b);
}

/* ---- determinism ------------------------------------------------------------------------- */

static void synth_fat_bytes(uint64_t seed, sh_bytebuf *out)
{
    static const uint8_t xml_blob[] = {0xfa, 0xde, 0x71, 0x71, 0, 0, 0, 12, '<', 'x', '/', '>'};
    sh_synth_spec specs[2];
    sh_synth_spec_init(&specs[0], SH_SYNTH_X86_64, IDENT);
    sh_synth_spec_init(&specs[1], SH_SYNTH_ARM64, IDENT);
    for (int i = 0; i < 2; i++) {
        specs[i].seed = seed;
        specs[i].text_size = 40000;
        specs[i].sig.cd.special[SH_SLOT_ENTITLEMENTS] = (sh_bytes){xml_blob, sizeof xml_blob};
    }
    sh_sig_params_dual_hash(&specs[1].sig);
    sh_bytebuf_init(out, NULL);
    assert_int_equal(sh_synth_fat(specs, 2, out, NULL, NULL), SH_W_OK);
}

static void output_is_deterministic(void **state)
{
    (void)state;
    sh_bytebuf a, b, c;
    synth_fat_bytes(7, &a);
    synth_fat_bytes(7, &b);
    synth_fat_bytes(8, &c);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(a.len, c.len); /* same layout ... */
    assert_memory_not_equal(a.data, c.data, a.len); /* ... different code, UUID and hashes */
    sh_bytebuf_free(&a);
    sh_bytebuf_free(&b);
    sh_bytebuf_free(&c);
}

/* ---- refusals and allocation failures ----------------------------------------------------- */

static void codedir_writer_refuses_what_it_cannot_represent(void **state)
{
    (void)state;
    static const uint8_t code[100];
    sh_cd_params p;
    sh_write_error err = {SH_W_OK, NULL};
    size_t size;
    sh_cd_params_init(&p, "id");
    assert_int_equal(sh_cd_size(&p, sizeof code, &size, &err), SH_W_OK);
    p.version = 0x20100;
    p.team_id = "TEAM";
    assert_int_equal(sh_cd_size(&p, sizeof code, &size, &err), SH_W_INVALID_ARGUMENT);
    p.team_id = NULL;
    p.version = 0x20300;
    p.exec_seg_limit = 0x4000;
    assert_int_equal(sh_cd_size(&p, sizeof code, &size, &err), SH_W_INVALID_ARGUMENT);
    p.exec_seg_limit = 0;
    p.version = 0x20200;
    assert_int_equal(sh_cd_size(&p, (uint64_t)1 << 33, &size, &err), SH_W_TOO_LARGE);
    p.version = 0x20300; /* codeLimit64 carries a limit above 4 GiB */
    assert_int_equal(sh_cd_size(&p, (uint64_t)1 << 33, &size, &err), SH_W_OK);
    assert_int_equal(size, 0x40 + 3 + ((uint64_t)1 << 21) * 32);
    p.hash_type = SH_HASH_SHA512;
    assert_int_equal(sh_cd_size(&p, sizeof code, &size, &err), SH_W_INVALID_ARGUMENT);
    p.hash_type = SH_HASH_SHA256;
    p.identifier = "";
    assert_int_equal(sh_cd_size(&p, sizeof code, &size, &err), SH_W_INVALID_ARGUMENT);
    assert_string_equal(err.what, "identifier");

    sh_sig_params s;
    sh_sig_params_init(&s, "id");
    s.alternate_hash_types[0] = SH_HASH_SHA256; /* same as the primary */
    s.n_alternates = 1;
    assert_int_equal(sh_sig_size(&s, sizeof code, NULL, NULL, &err), SH_W_INVALID_ARGUMENT);
}

static void superblob_writer_refuses_bad_entries(void **state)
{
    (void)state;
    static const uint8_t blob[8] = {0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 8};
    static const uint8_t bad_length[8] = {0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 9};
    sh_blob_slot unordered[2] = {{2, {blob, 8}}, {1, {blob, 8}}};
    sh_blob_slot inconsistent[1] = {{2, {bad_length, 8}}};
    sh_write_error err = {SH_W_OK, NULL};
    sh_bytebuf b;
    sh_bytebuf_init(&b, NULL);
    assert_int_equal(sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, unordered, 2, &b, &err),
                     SH_W_INVALID_ARGUMENT);
    assert_int_equal(sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, inconsistent, 1, &b, &err),
                     SH_W_INVALID_ARGUMENT);
    assert_int_equal(b.len, 0);
    sh_bytebuf_free(&b);
}

static void synthesiser_refuses_impossible_layouts(void **state)
{
    (void)state;
    sh_synth_spec spec;
    sh_write_error err = {SH_W_OK, NULL};
    sh_bytebuf b;
    sh_bytebuf_init(&b, NULL);
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "id");
    spec.text_size = 4; /* smaller than the entry stub */
    assert_int_equal(sh_synth_thin(&spec, &b, NULL, &err), SH_W_INVALID_ARGUMENT);
    spec.text_size = (uint64_t)1 << 32; /* the slice would pass 4 GiB */
    assert_int_equal(sh_synth_thin(&spec, &b, NULL, &err), SH_W_TOO_LARGE);
    sh_synth_spec twins[2] = {spec, spec};
    twins[0].text_size = twins[1].text_size = 0;
    assert_int_equal(sh_synth_fat(twins, 2, &b, NULL, &err), SH_W_INVALID_ARGUMENT);
    assert_int_equal(b.len, 0);
    sh_bytebuf_free(&b);
}

static void empty_requirements_and_superblob_bytes(void **state)
{
    (void)state;
    static const uint8_t want_reqs[] = {0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12, 0, 0, 0, 0};
    static const uint8_t cms[] = {0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 8};
    sh_bytebuf reqs, sb;
    sh_bytebuf_init(&reqs, NULL);
    sh_bytebuf_init(&sb, NULL);
    assert_int_equal(sh_requirements_empty_write(&reqs, NULL), SH_W_OK);
    assert_int_equal(reqs.len, sizeof want_reqs);
    assert_memory_equal(reqs.data, want_reqs, sizeof want_reqs);
    sh_blob_slot slots[2] = {{SH_SLOT_REQUIREMENTS, {reqs.data, reqs.len}},
                             {SH_SLOT_SIGNATURE, {cms, sizeof cms}}};
    assert_int_equal(sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, slots, 2, &sb, NULL), SH_W_OK);
    static const uint8_t want_sb[] = {
        0xfa, 0xde, 0x0c, 0xc0, 0, 0, 0, 48, 0, 0, 0, 2,  /* magic, length, count */
        0, 0, 0, 2, 0, 0, 0, 28,                          /* requirements at 28 */
        0, 1, 0, 0, 0, 0, 0, 40,                          /* CMS at 40 */
        0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, /* empty requirement set */
        0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 8};              /* empty BlobWrapper */
    assert_int_equal(sb.len, sizeof want_sb);
    assert_memory_equal(sb.data, want_sb, sizeof want_sb);
    sh_bytebuf_free(&reqs);
    sh_bytebuf_free(&sb);
}

typedef struct failing_allocator {
    int countdown; /* allocations left before one fails */
} failing_allocator;

static void *failing_alloc(void *ctx, size_t size)
{
    failing_allocator *fa = ctx;
    if (fa->countdown-- == 0)
        return NULL;
    return malloc(size);
}

static void failing_release(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/* Grows a buffer several times, wraps a blob in a SuperBlob, synthesises a fat file. */
static sh_write_status build_with(const sh_allocator *a)
{
    static const uint8_t payload[1000];
    sh_synth_spec specs[2];
    sh_bytebuf blob, sb, fat;
    sh_write_status st;
    sh_synth_spec_init(&specs[0], SH_SYNTH_ARM64, IDENT);
    sh_synth_spec_init(&specs[1], SH_SYNTH_X86_64, IDENT);
    sh_bytebuf_init(&blob, a);
    sh_bytebuf_init(&sb, a);
    sh_bytebuf_init(&fat, a);
    st = sh_blob_write(SH_MAGIC_EMBEDDED_ENTITLEMENTS, payload, 100, &blob, NULL);
    if (st == SH_W_OK) /* past the first 256 bytes: the buffer is reallocated */
        st = sh_blob_write(SH_MAGIC_EMBEDDED_ENTITLEMENTS, payload, sizeof payload, &blob, NULL);
    sh_blob_slot slot = {SH_SLOT_ENTITLEMENTS, {blob.data, 108}};
    if (st == SH_W_OK)
        st = sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, &slot, 1, &sb, NULL);
    if (st == SH_W_OK)
        st = sh_synth_fat(specs, 2, &fat, NULL, NULL);
    sh_bytebuf_free(&blob);
    sh_bytebuf_free(&sb);
    sh_bytebuf_free(&fat);
    return st;
}

/* Every allocation in turn fails; each time the failure is reported as SH_W_NO_MEMORY and
 * nothing leaks (ASan's leak checker watches). */
static void allocation_failures_are_reported(void **state)
{
    (void)state;
    for (int k = 0;; k++) {
        failing_allocator fa = {k};
        sh_allocator a = {failing_alloc, failing_release, &fa};
        sh_write_status st = build_with(&a);
        if (fa.countdown < 0) {
            assert_int_equal(st, SH_W_NO_MEMORY);
            continue;
        }
        assert_int_equal(st, SH_W_OK);
        assert_true(k >= 4);
        break;
    }
}

/* ---- golden: other signers' output -------------------------------------------------------- */

static uint8_t *read_sample(const char *name, size_t *len)
{
    char why[1200];
    uint8_t *data = built_sample_read(name, len, why, sizeof why);
    if (!data)
        fail_msg("%s", why);
    return data;
}

/* The parameters a parsed CodeDirectory was written with. */
static void params_from_codedir(const sh_codedir *cd, char *ident, size_t ident_size,
                                char *team, size_t team_size, sh_cd_params *p)
{
    assert_true(cd->identifier_len < ident_size);
    memcpy(ident, cd->identifier, cd->identifier_len);
    ident[cd->identifier_len] = '\0';
    sh_cd_params_init(p, ident);
    if (cd->team_id) {
        assert_true(cd->team_id_len < team_size);
        memcpy(team, cd->team_id, cd->team_id_len);
        team[cd->team_id_len] = '\0';
        p->team_id = team;
    }
    p->version = cd->version;
    p->flags = cd->flags;
    p->hash_type = cd->hash_type;
    p->page_shift = cd->page_shift;
    p->platform = cd->platform;
    p->exec_seg_base = cd->exec_seg_base;
    p->exec_seg_limit = cd->exec_seg_limit;
    p->exec_seg_flags = cd->exec_seg_flags;
    p->runtime = cd->runtime;
}

typedef struct rewritten {
    uint8_t *file;
    sh_macho_file macho;
    sh_signature sig;
    sh_bytebuf cd; /* our CodeDirectory for the same code and parameters */
} rewritten;

static void rewrite_sample_codedir(const char *name, uint32_t slice, rewritten *r)
{
    size_t len;
    sh_error err;
    sh_cursor sigdata;
    char ident[256], team[64];
    sh_cd_params p;
    r->file = read_sample(name, &len);
    parse_or_fail(r->file, len, &r->macho);
    assert_true(slice < r->macho.nslices);
    const sh_macho_slice *s = &r->macho.slices[slice];
    expect_ok(sh_macho_signature(s, &sigdata, &err), &err, "sample signature");
    expect_ok(sh_signature_parse(&sigdata, &r->sig, &err), &err, "sample signature parse");
    const sh_codedir *cd = &r->sig.cds[0];
    assert_int_equal(cd->n_special_slots, 0); /* linker signatures seal nothing else */
    params_from_codedir(cd, ident, sizeof ident, team, sizeof team, &p);
    sh_bytebuf_init(&r->cd, NULL);
    assert_int_equal(sh_cd_write(&p, s->data.p, cd->effective_limit, &r->cd, NULL), SH_W_OK);
}

static void free_rewritten(rewritten *r)
{
    sh_bytebuf_free(&r->cd);
    sh_macho_free(&r->macho);
    free(r->file);
}

/* Go's linker writes Apple's layout exactly: CodeDirectory and SuperBlob must match byte for byte. */
static void golden_go_signature_byte_exact(void **state)
{
    (void)state;
    rewritten r;
    rewrite_sample_codedir("go-arm64", 0, &r);
    const sh_codedir *cd = &r.sig.cds[0];
    assert_int_equal(r.cd.len, cd->blob.len);
    assert_memory_equal(r.cd.data, cd->blob.p, cd->blob.len);

    sh_bytebuf sb;
    sh_blob_slot slot = {SH_SLOT_CODEDIRECTORY, {r.cd.data, r.cd.len}};
    sh_bytebuf_init(&sb, NULL);
    assert_int_equal(sh_superblob_write(SH_MAGIC_EMBEDDED_SIGNATURE, &slot, 1, &sb, NULL), SH_W_OK);
    assert_int_equal(sb.len, r.sig.superblob.blob.len);
    assert_memory_equal(sb.data, r.sig.superblob.blob.p, sb.len);
    sh_bytebuf_free(&sb);
    free_rewritten(&r);
}

/* ld64.lld pads the identifier (its own layout, not Apple's), so only the page hashes are
 * comparable: a second, independent page hasher. */
static void golden_lld_page_hashes_equal(void **state)
{
    (void)state;
    static const struct { const char *name; uint32_t slice; } samples[] = {
        {"lld-arm64", 0}, {"lld-x86_64", 0}, {"lld-fat", 0}, {"lld-fat", 1}};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        rewritten r;
        sh_codedir ours;
        sh_error err;
        rewrite_sample_codedir(samples[i].name, samples[i].slice, &r);
        sh_cursor c = sh_cursor_make(r.cd.data, r.cd.len);
        expect_ok(sh_codedir_parse(&c, &ours, &err), &err, "our CodeDirectory");
        const sh_codedir *theirs = &r.sig.cds[0];
        assert_int_equal(ours.n_code_slots, theirs->n_code_slots);
        size_t bytes = (size_t)theirs->n_code_slots * theirs->hash_size;
        assert_memory_equal(ours.blob.p + ours.hash_offset, theirs->blob.p + theirs->hash_offset,
                            bytes);
        free_rewritten(&r);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thin_arm64_parses_and_verifies),
        cmocka_unit_test(thin_x86_64_parses_and_verifies),
        cmocka_unit_test(fat_slices_are_aligned_and_each_signed),
        cmocka_unit_test(dual_hash_has_sha1_primary_and_sha256_alternate),
        cmocka_unit_test(sha384_and_every_version_read_back),
        cmocka_unit_test(codedir_layout_per_version),
        cmocka_unit_test(special_slots_hash_what_was_given),
        cmocka_unit_test(unsigned_binary_has_no_signature),
        cmocka_unit_test(tampered_page_is_reported),
        cmocka_unit_test(output_is_deterministic),
        cmocka_unit_test(codedir_writer_refuses_what_it_cannot_represent),
        cmocka_unit_test(superblob_writer_refuses_bad_entries),
        cmocka_unit_test(synthesiser_refuses_impossible_layouts),
        cmocka_unit_test(empty_requirements_and_superblob_bytes),
        cmocka_unit_test(allocation_failures_are_reported),
    };
    const struct CMUnitTest golden[] = {
        cmocka_unit_test(golden_go_signature_byte_exact),
        cmocka_unit_test(golden_lld_page_hashes_equal),
    };
    if (argc > 1 && strcmp(argv[1], "golden") == 0)
        return cmocka_run_group_tests_name("synth_golden", golden, NULL, NULL);
    return cmocka_run_group_tests_name("synth", tests, NULL, NULL);
}
