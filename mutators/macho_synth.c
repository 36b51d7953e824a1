#include "macho_synth.h"

#include <string.h>

/* loader.h values the parsers' header does not name. */
#define MH_NOUNDEFS 0x1u
#define MH_DYLDLINK 0x4u
#define MH_TWOLEVEL 0x80u
#define MH_PIE 0x200000u
#define VM_PROT_READ 1u
#define VM_PROT_WRITE 2u
#define VM_PROT_EXECUTE 4u
#define SG_READ_ONLY 0x10u /* __DATA_CONST: made read-only after fixups */
#define S_ATTR_PURE_INSTRUCTIONS 0x80000000u
#define S_ATTR_SOME_INSTRUCTIONS 0x400u

#define MACH_HEADER_64_SIZE 32u
#define SEGMENT_64_SIZE 72u
#define SECTION_64_SIZE 80u
#define LINKEDIT_DATA_SIZE 16u
#define PAGEZERO_SIZE 0x100000000ull

#define VERSION(major, minor, patch) ((uint32_t)(major) << 16 | (uint32_t)(minor) << 8 | (patch))
#define MINOS VERSION(11, 0, 0)
#define SDK VERSION(14, 0, 0)
#define LD_VERSION VERSION(1015, 7, 0)
#define LIBSYSTEM_CURRENT VERSION(1319, 0, 0)
#define LIBSYSTEM_COMPAT VERSION(1, 0, 0)
#define DYLINKER_PATH "/usr/lib/dyld"
#define LIBSYSTEM_PATH "/usr/lib/libSystem.B.dylib"
#define CONST_SECTION_SIZE 16u
#define TEXT_SECTION_ALIGN 16u  /* ld64 aligns __text to 16 on both architectures */
#define SIGNATURE_ALIGN 16u     /* LC_CODE_SIGNATURE dataoff, Apple's convention */
#define FAT_ARCH_SIZE 20u

/* main() { return 0; } */
static const uint8_t arm64_entry_stub[] = {0x00, 0x00, 0x80, 0x52,  /* mov w0, #0 */
                                           0xc0, 0x03, 0x5f, 0xd6}; /* ret */
static const uint8_t x86_64_entry_stub[] = {0x31, 0xc0, /* xor eax, eax */
                                            0xc3};      /* ret */

void sh_synth_spec_init(sh_synth_spec *s, sh_synth_arch arch, const char *identifier)
{
    memset(s, 0, sizeof *s);
    s->arch = arch;
    s->text_size = SH_SYNTH_DEFAULT_TEXT_SIZE;
    s->sign = true;
    sh_sig_params_init(&s->sig, identifier);
}

/* ---- layout ------------------------------------------------------------------------------- */

static uint32_t string_command_size(uint32_t fixed, const char *str)
{
    uint32_t raw = fixed + (uint32_t)strlen(str) + 1;
    return (raw + 7u) & ~7u; /* 64-bit load commands are multiples of 8 */
}

static void add_command(sh_synth_layout *l, uint32_t cmd, uint32_t size)
{
    l->cmds[l->ncmds++] = cmd;
    l->sizeofcmds += size;
}

/* ld64's order for a small executable. */
static void layout_commands(sh_synth_layout *l, bool sign)
{
    add_command(l, SH_LC_SEGMENT_64, SEGMENT_64_SIZE);                   /* __PAGEZERO */
    add_command(l, SH_LC_SEGMENT_64, SEGMENT_64_SIZE + SECTION_64_SIZE); /* __TEXT */
    add_command(l, SH_LC_SEGMENT_64, SEGMENT_64_SIZE + SECTION_64_SIZE); /* __DATA_CONST */
    add_command(l, SH_LC_SEGMENT_64, SEGMENT_64_SIZE);                   /* __LINKEDIT */
    add_command(l, SH_LC_LOAD_DYLINKER, string_command_size(12, DYLINKER_PATH));
    add_command(l, SH_LC_UUID, 24);
    add_command(l, SH_LC_BUILD_VERSION, 24 + 8);
    add_command(l, SH_LC_MAIN, 24);
    add_command(l, SH_LC_LOAD_DYLIB, string_command_size(24, LIBSYSTEM_PATH));
    add_command(l, SH_LC_FUNCTION_STARTS, LINKEDIT_DATA_SIZE);
    if (sign)
        add_command(l, SH_LC_CODE_SIGNATURE, LINKEDIT_DATA_SIZE);
}

static size_t uleb128_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static sh_write_status layout_arch(const sh_synth_spec *s, sh_synth_layout *l, size_t *stub_len,
                                   sh_write_error *err)
{
    switch (s->arch) {
    case SH_SYNTH_ARM64:
        l->cputype = SH_CPU_TYPE_ARM64;
        l->cpusubtype = SH_CPU_SUBTYPE_ARM64_ALL;
        l->page_size = 0x4000;
        l->fat_align = 14;
        *stub_len = sizeof arm64_entry_stub;
        return SH_W_OK;
    case SH_SYNTH_X86_64:
        l->cputype = SH_CPU_TYPE_X86_64;
        l->cpusubtype = SH_CPU_SUBTYPE_X86_64_ALL;
        l->page_size = 0x1000;
        l->fat_align = 12;
        *stub_len = sizeof x86_64_entry_stub;
        return SH_W_OK;
    }
    return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "architecture");
}

static void set_segment(sh_synth_segment *seg, const char *name, uint64_t vmaddr,
                        uint64_t vmsize, uint64_t fileoff, uint64_t filesize)
{
    seg->name = name;
    seg->vmaddr = vmaddr;
    seg->vmsize = vmsize;
    seg->fileoff = fileoff;
    seg->filesize = filesize;
}

/* __PAGEZERO, __TEXT (header + commands + __text) and __DATA_CONST. */
static sh_write_status layout_text_and_data(sh_synth_layout *l, uint64_t text_size,
                                            sh_write_error *err)
{
    uint64_t text_end, text_filesize, page = l->page_size;
    l->text_size = text_size;
    if (!sh_align_up_u64(MACH_HEADER_64_SIZE + l->sizeofcmds, TEXT_SECTION_ALIGN, &l->text_offset) ||
        !sh_add_u64(l->text_offset, text_size, &text_end) ||
        !sh_align_up_u64(text_end, page, &text_filesize) || text_filesize > UINT32_MAX)
        return sh_write_fail(err, SH_W_TOO_LARGE, "__TEXT size");
    set_segment(&l->segments[0], "__PAGEZERO", 0, PAGEZERO_SIZE, 0, 0);
    set_segment(&l->segments[1], "__TEXT", SH_SYNTH_TEXT_VMADDR, text_filesize, 0, text_filesize);
    set_segment(&l->segments[2], "__DATA_CONST", SH_SYNTH_TEXT_VMADDR + text_filesize, page,
                text_filesize, page);
    l->const_offset = text_filesize;
    l->const_size = CONST_SECTION_SIZE;
    return SH_W_OK;
}

/* The signed code is the Mach-O up to the signature, with execSeg = __TEXT. */
static void prepare_signature_params(const sh_synth_spec *s, sh_synth_layout *l)
{
    l->sig = s->sig;
    if (l->sig.cd.version >= SH_CD_VERSION_EXECSEG) {
        l->sig.cd.exec_seg_base = l->segments[1].fileoff;
        l->sig.cd.exec_seg_limit = l->segments[1].filesize;
        l->sig.cd.exec_seg_flags |= SH_CS_EXECSEG_MAIN_BINARY;
    }
}

/* __LINKEDIT: function starts, then (16-aligned) the signature, which ends the file. */
static sh_write_status layout_linkedit(const sh_synth_spec *s, sh_synth_layout *l,
                                       sh_write_error *err)
{
    /* __TEXT is below 4 GiB (checked), so none of the 64-bit sums below can overflow; the
     * 32-bit limit of the result is checked at the end. */
    const sh_synth_segment *data = &l->segments[2];
    uint64_t linkedit_off = data->fileoff + data->filesize;
    l->function_starts_offset = linkedit_off;
    /* one ULEB128 delta (the entry point's offset from the header) and a 0 terminator */
    l->function_starts_size = (uleb128_size(l->text_offset) + 1 + 7) & ~(uint64_t)7;
    uint64_t end = linkedit_off + l->function_starts_size;
    if (s->sign) {
        size_t superblob_size, datasize;
        if (!sh_align_up_u64(end, SIGNATURE_ALIGN, &l->signature_offset))
            return sh_write_fail(err, SH_W_TOO_LARGE, "signature offset");
        prepare_signature_params(s, l);
        sh_write_status st =
            sh_sig_size(&l->sig, l->signature_offset, &superblob_size, &datasize, err);
        if (st != SH_W_OK)
            return st;
        l->superblob_size = superblob_size;
        l->signature_size = datasize;
        end = l->signature_offset + datasize;
    }
    uint64_t vmsize;
    /* dataoff, datasize and fat offsets are 32-bit: a slice must stay below 4 GiB. */
    if (end > UINT32_MAX || !sh_align_up_u64(end - linkedit_off, l->page_size, &vmsize))
        return sh_write_fail(err, SH_W_TOO_LARGE, "file size");
    set_segment(&l->segments[3], "__LINKEDIT", data->vmaddr + data->vmsize, vmsize, linkedit_off,
                end - linkedit_off);
    l->file_size = end;
    return SH_W_OK;
}

sh_write_status sh_synth_layout_compute(const sh_synth_spec *s, sh_synth_layout *l,
                                        sh_write_error *err)
{
    size_t stub_len = 0;
    memset(l, 0, sizeof *l);
    sh_write_status st = layout_arch(s, l, &stub_len, err);
    if (st != SH_W_OK)
        return st;
    uint64_t text_size = s->text_size ? s->text_size : SH_SYNTH_DEFAULT_TEXT_SIZE;
    if (text_size < stub_len)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "text size below the entry stub");
    layout_commands(l, s->sign);
    st = layout_text_and_data(l, text_size, err);
    if (st == SH_W_OK)
        st = layout_linkedit(s, l, err);
    return st;
}

/* ---- writing one slice -------------------------------------------------------------------- */

static void write_mach_header(sh_bytebuf *out, const sh_synth_layout *l)
{
    sh_bytebuf_u32le(out, SH_MH_MAGIC_64);
    sh_bytebuf_u32le(out, (uint32_t)l->cputype);
    sh_bytebuf_u32le(out, (uint32_t)l->cpusubtype);
    sh_bytebuf_u32le(out, SH_MH_EXECUTE);
    sh_bytebuf_u32le(out, l->ncmds);
    sh_bytebuf_u32le(out, l->sizeofcmds);
    sh_bytebuf_u32le(out, MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL | MH_PIE);
    sh_bytebuf_u32le(out, 0); /* reserved */
}

typedef struct section_desc {
    const char *sectname, *segname;
    uint64_t addr, size;
    uint32_t offset, align_log2, flags;
} section_desc;

static void write_segment(sh_bytebuf *out, const sh_synth_segment *seg, uint32_t prot,
                          uint32_t flags, const section_desc *sect)
{
    uint32_t nsects = sect ? 1 : 0;
    sh_bytebuf_u32le(out, SH_LC_SEGMENT_64);
    sh_bytebuf_u32le(out, SEGMENT_64_SIZE + nsects * SECTION_64_SIZE);
    sh_bytebuf_append_name(out, seg->name, 16);
    sh_bytebuf_u64le(out, seg->vmaddr);
    sh_bytebuf_u64le(out, seg->vmsize);
    sh_bytebuf_u64le(out, seg->fileoff);
    sh_bytebuf_u64le(out, seg->filesize);
    sh_bytebuf_u32le(out, prot); /* maxprot */
    sh_bytebuf_u32le(out, prot); /* initprot */
    sh_bytebuf_u32le(out, nsects);
    sh_bytebuf_u32le(out, flags);
    if (!sect)
        return;
    sh_bytebuf_append_name(out, sect->sectname, 16);
    sh_bytebuf_append_name(out, sect->segname, 16);
    sh_bytebuf_u64le(out, sect->addr);
    sh_bytebuf_u64le(out, sect->size);
    sh_bytebuf_u32le(out, sect->offset);
    sh_bytebuf_u32le(out, sect->align_log2);
    sh_bytebuf_append_zeros(out, 8); /* reloff, nreloc */
    sh_bytebuf_u32le(out, sect->flags);
    sh_bytebuf_append_zeros(out, 12); /* reserved1..3 */
}

static void write_segments(sh_bytebuf *out, const sh_synth_layout *l, const sh_synth_spec *s)
{
    const sh_synth_segment *text = &l->segments[1], *data = &l->segments[2];
    section_desc text_sect = {"__text", "__TEXT", text->vmaddr + l->text_offset, l->text_size,
                              (uint32_t)l->text_offset, s->arch == SH_SYNTH_ARM64 ? 2u : 4u,
                              S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS};
    section_desc const_sect = {"__const", "__DATA_CONST", data->vmaddr, l->const_size,
                               (uint32_t)l->const_offset, 3, 0};
    write_segment(out, &l->segments[0], 0, 0, NULL);
    write_segment(out, text, VM_PROT_READ | VM_PROT_EXECUTE, 0, &text_sect);
    write_segment(out, data, VM_PROT_READ | VM_PROT_WRITE, SG_READ_ONLY, &const_sect);
    write_segment(out, &l->segments[3], VM_PROT_READ, 0, NULL);
}

/* The path of a {cmd, cmdsize, name.offset, ..., path} command, NUL-padded to cmdsize. */
static void write_string_command_tail(sh_bytebuf *out, size_t start, uint32_t cmdsize,
                                      const char *str)
{
    sh_bytebuf_append(out, str, strlen(str) + 1);
    sh_bytebuf_pad_until(out, start + cmdsize);
}

static void write_other_commands(sh_bytebuf *out, const sh_synth_layout *l, size_t *uuid_at)
{
    size_t start = out->len;
    uint32_t cmdsize = string_command_size(12, DYLINKER_PATH);
    sh_bytebuf_u32le(out, SH_LC_LOAD_DYLINKER);
    sh_bytebuf_u32le(out, cmdsize);
    sh_bytebuf_u32le(out, 12);
    write_string_command_tail(out, start, cmdsize, DYLINKER_PATH);

    sh_bytebuf_u32le(out, SH_LC_UUID);
    sh_bytebuf_u32le(out, 24);
    *uuid_at = out->len;
    sh_bytebuf_append_zeros(out, 16); /* filled in once the content is known */

    sh_bytebuf_u32le(out, SH_LC_BUILD_VERSION);
    sh_bytebuf_u32le(out, 32);
    sh_bytebuf_u32le(out, SH_PLATFORM_MACOS);
    sh_bytebuf_u32le(out, MINOS);
    sh_bytebuf_u32le(out, SDK);
    sh_bytebuf_u32le(out, 1); /* ntools */
    sh_bytebuf_u32le(out, SH_TOOL_LD);
    sh_bytebuf_u32le(out, LD_VERSION);

    sh_bytebuf_u32le(out, SH_LC_MAIN);
    sh_bytebuf_u32le(out, 24);
    sh_bytebuf_u64le(out, l->text_offset); /* entryoff: main is the first thing in __text */
    sh_bytebuf_u64le(out, 0);              /* stacksize: default */

    start = out->len;
    cmdsize = string_command_size(24, LIBSYSTEM_PATH);
    sh_bytebuf_u32le(out, SH_LC_LOAD_DYLIB);
    sh_bytebuf_u32le(out, cmdsize);
    sh_bytebuf_u32le(out, 24);
    sh_bytebuf_u32le(out, 2); /* timestamp: what ld64 writes */
    sh_bytebuf_u32le(out, LIBSYSTEM_CURRENT);
    sh_bytebuf_u32le(out, LIBSYSTEM_COMPAT);
    write_string_command_tail(out, start, cmdsize, LIBSYSTEM_PATH);
}

static void write_linkedit_command(sh_bytebuf *out, uint32_t cmd, uint64_t off, uint64_t size)
{
    sh_bytebuf_u32le(out, cmd);
    sh_bytebuf_u32le(out, LINKEDIT_DATA_SIZE);
    sh_bytebuf_u32le(out, (uint32_t)off); /* the layout keeps the slice below 4 GiB */
    sh_bytebuf_u32le(out, (uint32_t)size);
}

/* splitmix64: a fixed, portable sequence, so the filler is the same on every host. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_deterministic(uint8_t *dst, size_t len, uint64_t *state)
{
    size_t i = 0;
    while (i < len) {
        uint64_t v = splitmix64_next(state);
        for (size_t k = 0; k < 8 && i < len; k++, i++, v >>= 8)
            dst[i] = (uint8_t)v;
    }
}

/* Appends n bytes: the stub first, then filler (pages differ, so misordered hashes show). */
static void write_filled(sh_bytebuf *out, const uint8_t *stub, size_t stub_len, uint64_t n,
                         uint64_t *state)
{
    size_t start = out->len;
    if (!sh_bytebuf_append_zeros(out, (size_t)n))
        return;
    size_t head = stub_len < n ? stub_len : (size_t)n;
    if (head)
        memcpy(out->data + start, stub, head);
    fill_deterministic(out->data + start + head, (size_t)n - head, state);
}

static void write_function_starts(sh_bytebuf *out, const sh_synth_layout *l)
{
    size_t start = out->len;
    uint64_t v = l->text_offset;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        sh_bytebuf_u8(out, (uint8_t)(byte | (v ? 0x80 : 0)));
    } while (v);
    sh_bytebuf_u8(out, 0);
    sh_bytebuf_pad_until(out, start + (size_t)l->function_starts_size);
}

/* ld64 derives the UUID from a digest of the output with the UUID field zeroed; so do we
 * (SHA-256 of the slice up to the signature), marked version 3 / RFC 4122 variant as ld64 does. */
static sh_write_status stamp_uuid(sh_bytebuf *out, size_t base, size_t uuid_at, uint64_t len,
                                  sh_write_error *err)
{
    uint8_t digest[32];
    if (!sh_hash(SH_HASH_SHA256, out->data + base, (size_t)len, digest))
        return sh_write_fail(err, SH_W_HASH_FAILED, "UUID");
    digest[6] = (uint8_t)((digest[6] & 0x0f) | 0x30);
    digest[8] = (uint8_t)((digest[8] & 0x3f) | 0x80);
    memcpy(out->data + uuid_at, digest, 16);
    return SH_W_OK;
}

static void write_headers(sh_bytebuf *out, const sh_synth_layout *l, const sh_synth_spec *s,
                          size_t *uuid_at)
{
    write_mach_header(out, l);
    write_segments(out, l, s);
    write_other_commands(out, l, uuid_at);
    write_linkedit_command(out, SH_LC_FUNCTION_STARTS, l->function_starts_offset,
                           l->function_starts_size);
    if (s->sign)
        write_linkedit_command(out, SH_LC_CODE_SIGNATURE, l->signature_offset, l->signature_size);
}

/* Everything before the signature: headers, __text, __const, function starts. */
static void write_unsigned_part(sh_bytebuf *out, size_t base, const sh_synth_layout *l,
                                const sh_synth_spec *s, size_t *uuid_at)
{
    uint64_t state = s->seed ^ ((uint64_t)s->arch << 56);
    const uint8_t *stub = s->arch == SH_SYNTH_ARM64 ? arm64_entry_stub : x86_64_entry_stub;
    size_t stub_len = s->arch == SH_SYNTH_ARM64 ? sizeof arm64_entry_stub : sizeof x86_64_entry_stub;
    write_headers(out, l, s, uuid_at);
    sh_bytebuf_pad_until(out, base + (size_t)l->text_offset);
    write_filled(out, stub, stub_len, l->text_size, &state);
    sh_bytebuf_pad_until(out, base + (size_t)l->const_offset);
    write_filled(out, NULL, 0, l->const_size, &state);
    sh_bytebuf_pad_until(out, base + (size_t)l->function_starts_offset);
    write_function_starts(out, l);
    if (s->sign)
        sh_bytebuf_pad_until(out, base + (size_t)l->signature_offset);
}

/* The signature is written into its final place: a fixed view of the reserved region, so the
 * buffer cannot move while the pages before it are hashed. */
static sh_write_status sign_slice(sh_bytebuf *out, size_t base, const sh_synth_layout *l,
                                  sh_write_error *err)
{
    size_t sig_at = base + (size_t)l->signature_offset;
    if (!sh_bytebuf_append_zeros(out, (size_t)l->signature_size))
        return sh_write_fail(err, sh_bytebuf_status(out), "signature space");
    sh_bytebuf region;
    sh_bytebuf_init_fixed(&region, out->data + sig_at, (size_t)l->signature_size);
    sh_write_status st = sh_sig_write(&l->sig, out->data + base, l->signature_offset, &region, err);
    if (st == SH_W_OK && region.len != l->signature_size)
        st = sh_write_fail(err, SH_W_INVALID_ARGUMENT, "signature size");
    return st;
}

static sh_write_status write_slice(const sh_synth_spec *s, const sh_synth_layout *l,
                                   sh_bytebuf *out, sh_write_error *err)
{
    size_t base = out->len, uuid_at = 0;
    if (!sh_bytebuf_reserve(out, (size_t)l->file_size))
        return sh_write_fail(err, sh_bytebuf_status(out), "slice");
    write_unsigned_part(out, base, l, s, &uuid_at);
    if (!sh_bytebuf_ok(out))
        return sh_write_fail(err, sh_bytebuf_status(out), "slice");
    uint64_t unsigned_end = out->len - base;
    sh_write_status st = stamp_uuid(out, base, uuid_at, unsigned_end, err);
    if (st == SH_W_OK && s->sign)
        st = sign_slice(out, base, l, err);
    if (st == SH_W_OK && out->len - base != l->file_size) /* layout and writer disagree: a bug */
        st = sh_write_fail(err, SH_W_INVALID_ARGUMENT, "slice layout");
    return st;
}

sh_write_status sh_synth_thin(const sh_synth_spec *s, sh_bytebuf *out, sh_synth_layout *layout,
                              sh_write_error *err)
{
    sh_synth_layout l;
    sh_write_status st = sh_synth_layout_compute(s, &l, err);
    if (st != SH_W_OK)
        return st;
    size_t base = out->len;
    st = write_slice(s, &l, out, err);
    if (st != SH_W_OK) {
        out->len = base; /* leave no partial slice behind */
        return st;
    }
    if (layout)
        *layout = l;
    return SH_W_OK;
}

/* ---- fat ---------------------------------------------------------------------------------- */

typedef struct fat_plan {
    sh_fat_placement slices[SH_SYNTH_MAX_SLICES];
    size_t n;
    uint64_t total;
} fat_plan;

static sh_write_status check_fat_inputs(const sh_fat_placement *in, size_t n, sh_write_error *err)
{
    if (n == 0 || n > SH_SYNTH_MAX_SLICES)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat slice count");
    for (size_t i = 0; i < n; i++) {
        if (in[i].align > SH_MAX_FAT_ALIGN)
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat slice alignment");
        for (size_t j = 0; j < i; j++)
            if (in[j].cputype == in[i].cputype && in[j].cpusubtype == in[i].cpusubtype)
                return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "duplicate fat slice architecture");
    }
    return SH_W_OK;
}

/* cctools lipo: sort by alignment (stable, so equal alignments keep the caller's order), then
 * place each slice at the next multiple of its alignment. */
static sh_write_status plan_fat(const sh_fat_placement *in, size_t n, fat_plan *plan,
                                sh_write_error *err)
{
    sh_write_status st = check_fat_inputs(in, n, err);
    if (st != SH_W_OK)
        return st;
    plan->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && plan->slices[j - 1].align > in[i].align; j--)
            plan->slices[j] = plan->slices[j - 1];
        plan->slices[j] = in[i];
    }
    uint64_t offset = 8 + (uint64_t)FAT_ARCH_SIZE * n;
    for (size_t i = 0; i < n; i++) {
        sh_fat_placement *p = &plan->slices[i];
        if (!sh_align_up_u64(offset, (uint64_t)1 << p->align, &offset) ||
            !sh_add_u64(offset, p->size, &plan->total) || plan->total > UINT32_MAX)
            return sh_write_fail(err, SH_W_TOO_LARGE, "fat file size");
        p->offset = (uint32_t)offset;
        offset = plan->total;
    }
    return SH_W_OK;
}

static void write_fat_header(sh_bytebuf *out, const fat_plan *plan)
{
    sh_bytebuf_u32be(out, SH_FAT_MAGIC);
    sh_bytebuf_u32be(out, (uint32_t)plan->n);
    for (size_t i = 0; i < plan->n; i++) {
        const sh_fat_placement *p = &plan->slices[i];
        sh_bytebuf_u32be(out, (uint32_t)p->cputype);
        sh_bytebuf_u32be(out, (uint32_t)p->cpusubtype);
        sh_bytebuf_u32be(out, p->offset);
        sh_bytebuf_u32be(out, p->size);
        sh_bytebuf_u32be(out, p->align);
    }
}

static void copy_placements(const fat_plan *plan, sh_fat_placement *placements)
{
    if (placements)
        memcpy(placements, plan->slices, plan->n * sizeof *placements);
}

sh_write_status sh_fat_write(const sh_fat_input *inputs, size_t n, sh_bytebuf *out,
                             sh_fat_placement *placements, sh_write_error *err)
{
    sh_fat_placement wanted[SH_SYNTH_MAX_SLICES];
    fat_plan plan;
    if (n == 0 || n > SH_SYNTH_MAX_SLICES)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat slice count");
    for (size_t i = 0; i < n; i++) {
        if (!inputs[i].bytes.p || inputs[i].bytes.len > UINT32_MAX)
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat slice bytes");
        sh_fat_placement w = {inputs[i].cputype, inputs[i].cpusubtype, 0,
                              (uint32_t)inputs[i].bytes.len, inputs[i].align, i};
        wanted[i] = w;
    }
    sh_write_status st = plan_fat(wanted, n, &plan, err);
    if (st != SH_W_OK)
        return st;
    size_t base = out->len;
    sh_bytebuf_reserve(out, (size_t)plan.total);
    write_fat_header(out, &plan);
    for (size_t i = 0; i < plan.n; i++) {
        sh_bytebuf_pad_until(out, base + plan.slices[i].offset);
        sh_bytebuf_append(out, inputs[plan.slices[i].input_index].bytes.p, plan.slices[i].size);
    }
    if (!sh_bytebuf_ok(out))
        return sh_write_fail(err, sh_bytebuf_status(out), "fat file");
    copy_placements(&plan, placements);
    return SH_W_OK;
}

static sh_write_status write_fat_slices(const sh_synth_spec *specs, const fat_plan *plan,
                                        size_t base, sh_bytebuf *out, sh_write_error *err)
{
    for (size_t i = 0; i < plan->n; i++) {
        const sh_fat_placement *p = &plan->slices[i];
        if (!sh_bytebuf_pad_until(out, base + p->offset))
            return sh_write_fail(err, sh_bytebuf_status(out), "fat padding");
        sh_write_status st = sh_synth_thin(&specs[p->input_index], out, NULL, err);
        if (st != SH_W_OK)
            return st;
    }
    return SH_W_OK;
}

sh_write_status sh_synth_fat(const sh_synth_spec *specs, size_t n, sh_bytebuf *out,
                             sh_fat_placement *placements, sh_write_error *err)
{
    sh_fat_placement wanted[SH_SYNTH_MAX_SLICES];
    fat_plan plan;
    if (n == 0 || n > SH_SYNTH_MAX_SLICES)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat slice count");
    for (size_t i = 0; i < n; i++) {
        sh_synth_layout l;
        sh_write_status st = sh_synth_layout_compute(&specs[i], &l, err);
        if (st != SH_W_OK)
            return st;
        sh_fat_placement w = {l.cputype, l.cpusubtype, 0, (uint32_t)l.file_size, l.fat_align, i};
        wanted[i] = w;
    }
    sh_write_status st = plan_fat(wanted, n, &plan, err);
    if (st != SH_W_OK)
        return st;
    size_t base = out->len;
    sh_bytebuf_reserve(out, (size_t)plan.total);
    write_fat_header(out, &plan);
    st = write_fat_slices(specs, &plan, base, out, err);
    if (st == SH_W_OK && out->len - base != plan.total)
        st = sh_write_fail(err, SH_W_INVALID_ARGUMENT, "fat layout");
    if (st != SH_W_OK) {
        out->len = base;
        return st;
    }
    copy_placements(&plan, placements);
    return SH_W_OK;
}
