/* Cross-check against llvm-objdump-14: for the binaries other linkers made ($SH_SAMPLES_DIR:
 * ld64.lld arm64/x86_64/fat, Go arm64) and the external real-world samples, our parse must agree
 * with `llvm-objdump-14 --macho --private-headers --arch=all` on every load command (name,
 * cmdsize, segment and section geometry, linkedit data ranges, dylib and path strings, UUID,
 * build version and tools, version-min, entry point, encryption, dyld_info, symtab) and with
 * `--universal-headers` on the fat_arch table.  A missing llvm-objdump-14 is a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "macho.h"

#define OBJDUMP "llvm-objdump-14"

/* ---- objdump output as a tree of line blocks -------------------------------------------------- */

typedef struct block {
    char **lines; /* trimmed */
    size_t n, cap;
} block;

typedef struct od_command {
    block fields;
    block *sections;
    size_t nsections;
} od_command;

typedef struct od_arch {
    char name[64];
    char header[256]; /* the mach_header values line */
    od_command *cmds;
    size_t ncmds;
} od_arch;

typedef struct od_output {
    od_arch *archs;
    size_t narchs;
    block all; /* every line, for the universal headers and error text */
    int status;
} od_output;

static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, n * size);
    assert_non_null(q);
    return q;
}

static void block_add(block *b, const char *line)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->lines = grow(b->lines, b->cap, sizeof *b->lines);
    }
    b->lines[b->n] = strdup(line);
    assert_non_null(b->lines[b->n]);
    b->n++;
}

static void block_free(block *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->lines[i]);
    free(b->lines);
}

static void output_free(od_output *o)
{
    for (size_t a = 0; a < o->narchs; a++) {
        for (size_t c = 0; c < o->archs[a].ncmds; c++) {
            od_command *cmd = &o->archs[a].cmds[c];
            block_free(&cmd->fields);
            for (size_t s = 0; s < cmd->nsections; s++)
                block_free(&cmd->sections[s]);
            free(cmd->sections);
        }
        free(o->archs[a].cmds);
    }
    free(o->archs);
    block_free(&o->all);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

static od_arch *new_arch(od_output *o, const char *name)
{
    o->archs = grow(o->archs, o->narchs + 1, sizeof *o->archs);
    od_arch *a = &o->archs[o->narchs++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    return a;
}

static void run_objdump(const char *args, const char *path, od_output *o)
{
    memset(o, 0, sizeof *o);
    assert_null(strchr(path, '\''));
    char command[4096];
    snprintf(command, sizeof command, OBJDUMP " %s '%s' 2>&1", args, path);
    FILE *p = popen(command, "r");
    assert_non_null(p);
    char buf[8192];
    od_arch *arch = NULL;
    od_command *cmd = NULL;
    block *target = NULL;
    bool want_header = false;
    while (fgets(buf, sizeof buf, p)) {
        char *line = trim(buf);
        block_add(&o->all, line);
        const char *paren = strstr(line, " (architecture ");
        size_t n = strlen(line);
        if (paren && n > 2 && strcmp(line + n - 2, "):") == 0) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(n - 2 - (size_t)(paren - line) - 15),
                     paren + 15);
            arch = new_arch(o, name);
            cmd = NULL;
            target = NULL;
        } else if (!arch && n > 1 && line[n - 1] == ':' && strncmp(line, "Load", 4) != 0) {
            arch = new_arch(o, ""); /* thin file: "PATH:" */
        } else if (strcmp(line, "Mach header") == 0) {
            want_header = true;
        } else if (want_header && strncmp(line, "magic", 5) == 0) {
            /* column titles */
        } else if (want_header && arch) {
            snprintf(arch->header, sizeof arch->header, "%.255s", line);
            want_header = false;
        } else if (arch && strncmp(line, "Load command ", 13) == 0) {
            arch->cmds = grow(arch->cmds, arch->ncmds + 1, sizeof *arch->cmds);
            cmd = &arch->cmds[arch->ncmds++];
            memset(cmd, 0, sizeof *cmd);
            target = &cmd->fields;
        } else if (cmd && strcmp(line, "Section") == 0) {
            cmd->sections = grow(cmd->sections, cmd->nsections + 1, sizeof *cmd->sections);
            target = &cmd->sections[cmd->nsections++];
            memset(target, 0, sizeof *target);
        } else if (target) {
            block_add(target, line);
        }
    }
    int status = pclose(p);
    o->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The value after "key " in the first line of b that starts with it, or NULL. */
static const char *field(const block *b, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < b->n; i++)
        if (strncmp(b->lines[i], key, k) == 0 && b->lines[i][k] == ' ') {
            const char *v = b->lines[i] + k;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

/* ---- comparison helpers ------------------------------------------------------------------------- */

typedef struct context {
    const char *file, *arch;
    long index; /* load command */
} context;

static const char *need(const context *cx, const block *b, const char *key)
{
    const char *v = field(b, key);
    if (!v)
        fail_msg("%s [%s] load command %ld: objdump printed no '%s'", cx->file, cx->arch,
                 cx->index, key);
    return v;
}

static void expect_num(const context *cx, const block *b, const char *key, uint64_t ours)
{
    const char *v = need(cx, b, key);
    if (strncmp(v, "2^", 2) == 0)
        v += 2;
    char *end;
    unsigned long long theirs = strtoull(v, &end, 0);
    if (end == v || theirs != ours)
        fail_msg("%s [%s] load command %ld: %s: objdump '%s', ours %llu (0x%llx)", cx->file,
                 cx->arch, cx->index, key, v, (unsigned long long)ours, (unsigned long long)ours);
}

static void expect_str(const context *cx, const block *b, const char *key, const char *ours)
{
    const char *v = need(cx, b, key);
    if (strcmp(v, ours) != 0)
        fail_msg("%s [%s] load command %ld: %s: objdump '%s', ours '%s'", cx->file, cx->arch,
                 cx->index, key, v, ours);
}

/* "NAME (offset N)" as objdump prints lc_str fields. */
static void expect_lc_str(const context *cx, const block *b, const char *key, const char *ours,
                          uint64_t offset)
{
    char want[4200];
    snprintf(want, sizeof want, "%s (offset %llu)", ours, (unsigned long long)offset);
    expect_str(cx, b, key, want);
}

/* xx.yy[.zz] as llvm-objdump formats versions; "n/a" for 0 where it does. */
static const char *version_string(uint32_t v, bool zero_is_na, char *buf, size_t size)
{
    if (zero_is_na && v == 0)
        snprintf(buf, size, "n/a");
    else if (v & 0xff)
        snprintf(buf, size, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    else
        snprintf(buf, size, "%u.%u", v >> 16, (v >> 8) & 0xff);
    return buf;
}

static const char *dylib_version_string(uint32_t v, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    return buf;
}

static void prot_string(uint32_t prot, char out[4])
{
    out[0] = prot & 1 ? 'r' : '-';
    out[1] = prot & 2 ? 'w' : '-';
    out[2] = prot & 4 ? 'x' : '-';
    out[3] = '\0';
}

static const sh_macho_linkedit_data *linkedit_of(const sh_macho_slice *s, uint32_t cmd)
{
    switch (cmd) {
    case SH_LC_CODE_SIGNATURE: return &s->code_signature;
    case SH_LC_SEGMENT_SPLIT_INFO: return &s->split_info;
    case SH_LC_FUNCTION_STARTS: return &s->function_starts;
    case SH_LC_DATA_IN_CODE: return &s->data_in_code;
    case SH_LC_DYLIB_CODE_SIGN_DRS: return &s->dylib_code_sign_drs;
    case SH_LC_LINKER_OPTIMIZATION_HINT: return &s->linker_optimization_hint;
    case SH_LC_DYLD_EXPORTS_TRIE: return &s->exports_trie;
    case SH_LC_DYLD_CHAINED_FIXUPS: return &s->chained_fixups;
    case SH_LC_ATOM_INFO: return &s->atom_info;
    default: return NULL;
    }
}

static uint64_t string_offset(const sh_macho_slice *s, uint32_t index)
{
    sh_cursor view;
    assert_true(sh_macho_load_command_view(s, index, &view));
    return (uint64_t)((const uint8_t *)s->commands[index].str - view.p); /* test-side check */
}

/* ---- per command ---------------------------------------------------------------------------------- */

static void compare_segment(const context *cx, const sh_macho_slice *s, uint32_t i,
                            const od_command *c)
{
    const sh_macho_segment *seg = NULL;
    for (uint32_t k = 0; k < s->nsegments; k++)
        if (s->segments[k].command_index == i)
            seg = &s->segments[k];
    assert_non_null(seg);
    char prot[4];
    expect_str(cx, &c->fields, "segname", seg->segname);
    expect_num(cx, &c->fields, "vmaddr", seg->vmaddr);
    expect_num(cx, &c->fields, "vmsize", seg->vmsize);
    expect_num(cx, &c->fields, "fileoff", seg->fileoff);
    expect_num(cx, &c->fields, "filesize", seg->filesize);
    expect_num(cx, &c->fields, "nsects", seg->nsects);
    prot_string(seg->maxprot, prot);
    expect_str(cx, &c->fields, "maxprot", prot);
    prot_string(seg->initprot, prot);
    expect_str(cx, &c->fields, "initprot", prot);
    assert_int_equal(c->nsections, seg->nsects);
    for (uint32_t k = 0; k < seg->nsects; k++) {
        const sh_macho_section *sec = &s->sections[seg->first_section + k];
        const block *b = &c->sections[k];
        expect_str(cx, b, "sectname", sec->sectname);
        expect_str(cx, b, "segname", sec->segname);
        expect_num(cx, b, "addr", sec->addr);
        expect_num(cx, b, "size", sec->size);
        expect_num(cx, b, "offset", sec->offset);
        expect_num(cx, b, "align", sec->align);
        expect_num(cx, b, "reloff", sec->reloff);
        expect_num(cx, b, "nreloc", sec->nreloc);
    }
}

static void compare_build_version(const context *cx, const sh_macho_slice *s, const od_command *c)
{
    char buf[32];
    expect_str(cx, &c->fields, "platform", sh_macho_platform_name(s->platform));
    expect_str(cx, &c->fields, "sdk", version_string(s->sdk, true, buf, sizeof buf));
    expect_str(cx, &c->fields, "minos", version_string(s->minos, false, buf, sizeof buf));
    expect_num(cx, &c->fields, "ntools", s->ntools);
    /* tool / version pairs, in order, after "ntools" */
    uint32_t t = 0;
    for (size_t i = 0; i < c->fields.n; i++) {
        const char *line = c->fields.lines[i];
        if (strncmp(line, "tool ", 5) == 0) {
            assert_true(t < s->ntools);
            block one = {&c->fields.lines[i], 1, 1};
            expect_str(cx, &one, "tool", sh_macho_tool_name(s->tools[t].tool));
            assert_true(i + 1 < c->fields.n);
            block two = {&c->fields.lines[i + 1], 1, 1};
            expect_str(cx, &two, "version", version_string(s->tools[t].version, false, buf, sizeof buf));
            t++;
        }
    }
    assert_int_equal(t, s->ntools);
}

static void compare_dylib(const context *cx, const sh_macho_slice *s, uint32_t i,
                          uint32_t dylib_index, const od_command *c)
{
    assert_true(dylib_index < s->ndylibs);
    const sh_macho_dylib *d = &s->dylibs[dylib_index];
    char buf[32];
    assert_int_equal(d->cmd, s->commands[i].cmd);
    expect_lc_str(cx, &c->fields, "name", d->name, string_offset(s, i));
    expect_num(cx, &c->fields, "time stamp", d->timestamp);
    expect_str(cx, &c->fields, "current version",
               dylib_version_string(d->current_version, buf, sizeof buf));
    expect_str(cx, &c->fields, "compatibility version",
               dylib_version_string(d->compatibility_version, buf, sizeof buf));
}

/* Counts which kinds were compared, so the test can show it covered them. */
typedef struct coverage {
    unsigned segments, sections, linkedit, dylibs, strings, uuids, builds, version_mins, mains,
        encryptions, dyld_infos, symtabs;
} coverage;

static void compare_command(const context *cx, const sh_macho_slice *s, uint32_t i,
                            const od_command *c, uint32_t *dylib_index, bool *first_build,
                            coverage *cov)
{
    const sh_macho_load_command *lc = &s->commands[i];
    const char *name = sh_macho_load_command_name(lc->cmd);
    assert_non_null(name);
    expect_str(cx, &c->fields, "cmd", name);
    expect_num(cx, &c->fields, "cmdsize", lc->cmdsize);
    const sh_macho_linkedit_data *led = linkedit_of(s, lc->cmd);
    char buf[64];
    if (led) {
        assert_int_equal(led->command_index, i);
        expect_num(cx, &c->fields, "dataoff", led->dataoff);
        expect_num(cx, &c->fields, "datasize", led->datasize);
        cov->linkedit++;
        return;
    }
    switch (lc->cmd) {
    case SH_LC_SEGMENT:
    case SH_LC_SEGMENT_64:
        compare_segment(cx, s, i, c);
        cov->segments++;
        cov->sections += (unsigned)c->nsections;
        break;
    case SH_LC_LOAD_DYLIB:
    case SH_LC_LOAD_WEAK_DYLIB:
    case SH_LC_REEXPORT_DYLIB:
    case SH_LC_LAZY_LOAD_DYLIB:
    case SH_LC_LOAD_UPWARD_DYLIB:
    case SH_LC_ID_DYLIB:
        compare_dylib(cx, s, i, (*dylib_index)++, c);
        cov->dylibs++;
        break;
    case SH_LC_LOAD_DYLINKER:
    case SH_LC_ID_DYLINKER:
    case SH_LC_DYLD_ENVIRONMENT:
        expect_lc_str(cx, &c->fields, "name", lc->str, string_offset(s, i));
        cov->strings++;
        break;
    case SH_LC_RPATH:
        expect_lc_str(cx, &c->fields, "path", lc->str, string_offset(s, i));
        cov->strings++;
        break;
    case SH_LC_UUID: {
        const uint8_t *u = s->uuid;
        snprintf(buf, sizeof buf,
                 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0],
                 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                 u[14], u[15]);
        expect_str(cx, &c->fields, "uuid", buf);
        cov->uuids++;
        break;
    }
    case SH_LC_BUILD_VERSION:
        if (*first_build) /* we keep the first one (zippered binaries have two) */
            compare_build_version(cx, s, c);
        *first_build = false;
        cov->builds++;
        break;
    case SH_LC_VERSION_MIN_MACOSX:
    case SH_LC_VERSION_MIN_IPHONEOS:
    case SH_LC_VERSION_MIN_TVOS:
    case SH_LC_VERSION_MIN_WATCHOS:
        assert_int_equal(s->version_min_cmd, lc->cmd);
        expect_str(cx, &c->fields, "version",
                   version_string(s->version_min_version, false, buf, sizeof buf));
        expect_str(cx, &c->fields, "sdk", version_string(s->version_min_sdk, true, buf, sizeof buf));
        cov->version_mins++;
        break;
    case SH_LC_MAIN:
        expect_num(cx, &c->fields, "entryoff", s->entryoff);
        expect_num(cx, &c->fields, "stacksize", s->stacksize);
        cov->mains++;
        break;
    case SH_LC_ENCRYPTION_INFO:
    case SH_LC_ENCRYPTION_INFO_64:
        assert_int_equal(s->encryption_info_cmd, lc->cmd);
        expect_num(cx, &c->fields, "cryptoff", s->cryptoff);
        expect_num(cx, &c->fields, "cryptsize", s->cryptsize);
        expect_num(cx, &c->fields, "cryptid", s->cryptid);
        cov->encryptions++;
        break;
    case SH_LC_DYLD_INFO:
    case SH_LC_DYLD_INFO_ONLY:
        assert_int_equal(s->dyld_info_cmd, lc->cmd);
        expect_num(cx, &c->fields, "rebase_off", s->rebase_off);
        expect_num(cx, &c->fields, "rebase_size", s->rebase_size);
        expect_num(cx, &c->fields, "bind_off", s->bind_off);
        expect_num(cx, &c->fields, "bind_size", s->bind_size);
        expect_num(cx, &c->fields, "weak_bind_off", s->weak_bind_off);
        expect_num(cx, &c->fields, "weak_bind_size", s->weak_bind_size);
        expect_num(cx, &c->fields, "lazy_bind_off", s->lazy_bind_off);
        expect_num(cx, &c->fields, "lazy_bind_size", s->lazy_bind_size);
        expect_num(cx, &c->fields, "export_off", s->export_off);
        expect_num(cx, &c->fields, "export_size", s->export_size);
        cov->dyld_infos++;
        break;
    case SH_LC_SYMTAB:
        expect_num(cx, &c->fields, "symoff", s->symoff);
        expect_num(cx, &c->fields, "nsyms", s->nsyms);
        expect_num(cx, &c->fields, "stroff", s->stroff);
        expect_num(cx, &c->fields, "strsize", s->strsize);
        cov->symtabs++;
        break;
    default:
        break; /* name and cmdsize compared above */
    }
}

/* "MH_MAGIC_64 ARM64 ALL 0x00 EXECUTE 14 840 NOUNDEFS ..." */
static void compare_header(const context *cx, const sh_macho_slice *s, const od_arch *a)
{
    char copy[256], *tok[8] = {0};
    snprintf(copy, sizeof copy, "%s", a->header);
    int n = 0;
    for (char *t = strtok(copy, " "); t && n < 8; t = strtok(NULL, " "))
        tok[n++] = t;
    if (n < 7)
        fail_msg("%s [%s]: no Mach header line in objdump output", cx->file, cx->arch);
    const char *filetype = sh_macho_filetype_name(s->filetype);
    assert_string_equal(tok[4], filetype + 3); /* without "MH_" */
    assert_int_equal(strtoull(tok[5], NULL, 10), s->ncmds);
    assert_int_equal(strtoull(tok[6], NULL, 10), s->sizeofcmds);
    assert_int_equal(a->ncmds, s->ncmds);
}

static void compare_slice(const char *file, const sh_macho_slice *s, const od_arch *a,
                          coverage *cov)
{
    context cx = {file, a->name[0] ? a->name : "thin", -1};
    compare_header(&cx, s, a);
    uint32_t dylib_index = 0;
    bool first_build = true;
    for (uint32_t i = 0; i < s->ncmds; i++) {
        cx.index = (long)i;
        compare_command(&cx, s, i, &a->cmds[i], &dylib_index, &first_build, cov);
    }
    assert_int_equal(dylib_index, s->ndylibs);
}

/* --universal-headers: nfat_arch, then per "architecture NAME": offset, size, align. */
static void compare_fat_headers(const char *path, const sh_macho_file *f)
{
    od_output o;
    run_objdump("--macho --universal-headers", path, &o);
    assert_int_equal(o.status, 0);
    context cx = {path, "fat", -1};
    expect_str(&cx, &o.all, "fat_magic", f->fat_magic == SH_FAT_MAGIC_64 ? "FAT_MAGIC_64" : "FAT_MAGIC");
    expect_num(&cx, &o.all, "nfat_arch", f->nfat_arch);
    uint32_t k = 0;
    for (size_t i = 0; i < o.all.n; i++) {
        if (strncmp(o.all.lines[i], "architecture ", 13) != 0)
            continue;
        assert_true(k < f->nslices);
        const sh_macho_slice *s = &f->slices[k];
        assert_string_equal(o.all.lines[i] + 13, sh_macho_cpu_name(s->fat_cputype, s->fat_cpusubtype));
        block rest = {&o.all.lines[i + 1], o.all.n - i - 1, 0};
        cx.index = (long)k;
        expect_num(&cx, &rest, "offset", s->offset);
        expect_num(&cx, &rest, "size", s->size);
        expect_num(&cx, &rest, "align", s->fat_align);
        k++;
    }
    assert_int_equal(k, f->nfat_arch);
    output_free(&o);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
    if (data && size > 0 && fread(data, 1, (size_t)size, fp) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(fp);
    *len = size > 0 ? (size_t)size : 0;
    return data;
}

static bool mentions_error(const od_output *o)
{
    for (size_t i = 0; i < o->all.n; i++)
        if (strstr(o->all.lines[i], "error") || strstr(o->all.lines[i], "not recognized") ||
            strstr(o->all.lines[i], "malformed") || strstr(o->all.lines[i], "is not an object file"))
            return true;
    return false;
}

/* Compares one file; returns whether we parsed it (files both tools reject return false). */
static bool cross_check_file(const char *path, coverage *cov)
{
    size_t len;
    uint8_t *data = read_file(path, &len);
    if (!data)
        fail_msg("cannot read %s", path);
    sh_macho_file f;
    sh_error err;
    sh_err e = sh_macho_parse(data, len, NULL, &f, &err);
    od_output o;
    run_objdump("--macho --private-headers --arch=all", path, &o);
    if (e != SH_E_OK) {
        /* Both must reject it. */
        if (!(o.status != 0 || mentions_error(&o)) || o.narchs > 0)
            fail_msg("%s: we reject it (%s) but llvm-objdump-14 does not", path, sh_err_name(e));
        print_message("both reject %s (ours: %s)\n", path, sh_err_name(e));
        output_free(&o);
        free(data);
        return false;
    }
    if (o.status != 0 || mentions_error(&o))
        fail_msg("%s: we parse it but llvm-objdump-14 reports an error", path);
    assert_int_equal(o.narchs, f.nslices);
    for (uint32_t i = 0; i < f.nslices; i++) {
        const sh_macho_slice *s = &f.slices[i];
        if (f.fat)
            assert_string_equal(o.archs[i].name, sh_macho_cpu_name(s->cputype, s->cpusubtype));
        compare_slice(path, s, &o.archs[i], cov);
    }
    if (f.fat)
        compare_fat_headers(path, &f);
    output_free(&o);
    sh_macho_free(&f);
    free(data);
    return true;
}

static void objdump_is_installed(void **state)
{
    (void)state;
    int status = system(OBJDUMP " --version > /dev/null 2>&1");
    if (status != 0)
        fail_msg(OBJDUMP " is not installed or does not run (status %d): install llvm-14 "
                 "(scripts/install-deps.sh); this cross-check is not optional", status);
}

static void samples_built_by_other_linkers(void **state)
{
    (void)state;
    const char *dir = getenv("SH_SAMPLES_DIR");
    if (!dir || !*dir)
        fail_msg("SH_SAMPLES_DIR is not set (ctest sets it; build with tests/samples/build-samples.sh)");
    static const char *const names[] = {"lld-arm64", "lld-x86_64", "lld-x86_64-unsigned", "lld-fat",
                                         "go-arm64"};
    coverage cov = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!cross_check_file(path, &cov))
            fail_msg("%s did not parse", path);
    }
    print_message("samples: %u segments, %u sections, %u linkedit ranges, %u dylibs, %u paths, "
                  "%u uuids, %u build versions, %u LC_MAIN, %u dyld_info, %u symtabs\n",
                  cov.segments, cov.sections, cov.linkedit, cov.dylibs, cov.strings, cov.uuids,
                  cov.builds, cov.mains, cov.dyld_infos, cov.symtabs);
    assert_true(cov.segments >= 4 * 5 && cov.linkedit > 0 && cov.dylibs > 0 && cov.builds == 6);
}

static void external_samples(void **state)
{
    (void)state;
    const char *shared = getenv("SH_SHARED_DIR");
    const char *source = getenv("SH_SOURCE_DIR");
    char dir[1024];
    if (shared && *shared)
        snprintf(dir, sizeof dir, "%s/external-samples/macho", shared);
    else
        snprintf(dir, sizeof dir, "%s/../shared/external-samples/macho", source ? source : ".");
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    coverage cov = {0};
    unsigned parsed = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        parsed += cross_check_file(path, &cov) ? 1 : 0;
    }
    closedir(d);
    print_message("external: %u files, %u segments, %u sections, %u linkedit ranges, %u dylibs, "
                  "%u paths, %u version-min, %u encryption, %u dyld_info\n",
                  parsed, cov.segments, cov.sections, cov.linkedit, cov.dylibs, cov.strings,
                  cov.version_mins, cov.encryptions, cov.dyld_infos);
    assert_true(parsed >= 9);
    assert_true(cov.version_mins > 0 && cov.encryptions > 0 && cov.dylibs > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(objdump_is_installed),
        cmocka_unit_test(samples_built_by_other_linkers),
        cmocka_unit_test(external_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
