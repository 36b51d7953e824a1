#include "macho_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macho.h"

static void reserve(mb *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        fprintf(stderr, "macho_builder: out of memory\n");
        exit(2);
    }
    memset(p + b->cap, 0, cap - b->cap);
    b->data = p;
    b->cap = cap;
}

static void store(mb *b, size_t offset, uint64_t v, size_t n, bool big_endian)
{
    if (offset + n > b->len) {
        reserve(b, offset + n - b->len);
        b->len = offset + n;
    }
    for (size_t i = 0; i < n; i++) {
        size_t shift = big_endian ? (n - 1 - i) * 8 : i * 8;
        b->data[offset + i] = (uint8_t)(v >> shift);
    }
}

void mb_u8(mb *b, uint8_t v) { store(b, b->len, v, 1, b->big_endian); }
void mb_u32(mb *b, uint32_t v) { store(b, b->len, v, 4, b->big_endian); }
void mb_u64(mb *b, uint64_t v) { store(b, b->len, v, 8, b->big_endian); }
void mb_word(mb *b, uint64_t v) { store(b, b->len, v, b->is64 ? 8 : 4, b->big_endian); }
void mb_put_u32(mb *b, size_t offset, uint32_t v) { store(b, offset, v, 4, b->big_endian); }
void mb_put_u64(mb *b, size_t offset, uint64_t v) { store(b, offset, v, 8, b->big_endian); }
void mb_put_u32be(mb *b, size_t offset, uint32_t v) { store(b, offset, v, 4, true); }

void mb_bytes(mb *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mb_fill(mb *b, size_t n, uint8_t byte)
{
    reserve(b, n);
    memset(b->data + b->len, byte, n);
    b->len += n;
}

void mb_pad_to(mb *b, size_t offset)
{
    if (offset > b->len)
        mb_fill(b, offset - b->len, 0);
}

void mb_name16(mb *b, const char *name)
{
    uint8_t field[16] = {0};
    size_t n = strlen(name);
    memcpy(field, name, n > 16 ? 16 : n);
    mb_bytes(b, field, sizeof field);
}

size_t mb_header_size(const mb *b) { return b->is64 ? 32 : 28; }

void mb_begin(mb *b, bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype,
              uint32_t filetype)
{
    memset(b, 0, sizeof *b);
    b->is64 = is64;
    b->big_endian = big_endian;
    mb_u32(b, is64 ? SH_MH_MAGIC_64 : SH_MH_MAGIC);
    mb_u32(b, (uint32_t)cputype);
    mb_u32(b, (uint32_t)cpusubtype);
    mb_u32(b, filetype);
    mb_u32(b, 0); /* ncmds */
    mb_u32(b, 0); /* sizeofcmds */
    mb_u32(b, 0x00200085); /* NOUNDEFS DYLDLINK TWOLEVEL PIE */
    if (is64)
        mb_u32(b, 0);
}

size_t mb_begin_cmd(mb *b, uint32_t cmd)
{
    size_t start = b->len;
    mb_u32(b, cmd);
    mb_u32(b, 0);
    return start;
}

void mb_end_cmd(mb *b, size_t start)
{
    size_t align = b->is64 ? 8 : 4;
    while ((b->len - start) % align)
        mb_u8(b, 0);
    mb_put_u32(b, start + 4, (uint32_t)(b->len - start));
    b->ncmds++;
}

size_t mb_raw_cmd(mb *b, uint32_t cmd, uint32_t cmdsize, const void *payload, size_t n)
{
    size_t start = b->len;
    mb_u32(b, cmd);
    mb_u32(b, cmdsize);
    mb_bytes(b, payload, n);
    b->ncmds++;
    return start;
}

void mb_end_commands(mb *b)
{
    mb_put_u32(b, 16, b->ncmds);
    mb_put_u32(b, 20, (uint32_t)(b->len - mb_header_size(b)));
}

size_t mb_segment(mb *b, const char *name, uint64_t vmaddr, uint64_t vmsize, uint64_t fileoff,
                  uint64_t filesize, uint32_t nsects, const mb_section *sects)
{
    size_t start = mb_begin_cmd(b, b->is64 ? SH_LC_SEGMENT_64 : SH_LC_SEGMENT);
    mb_name16(b, name);
    mb_word(b, vmaddr);
    mb_word(b, vmsize);
    mb_word(b, fileoff);
    mb_word(b, filesize);
    mb_u32(b, 7); /* maxprot rwx */
    mb_u32(b, 5); /* initprot r-x */
    mb_u32(b, nsects);
    mb_u32(b, 0);
    for (uint32_t i = 0; i < nsects; i++) {
        const mb_section *s = &sects[i];
        mb_name16(b, s->sectname);
        mb_name16(b, s->segname ? s->segname : name);
        mb_word(b, s->addr);
        mb_word(b, s->size);
        mb_u32(b, s->offset);
        mb_u32(b, s->align);
        mb_u32(b, 0); /* reloff */
        mb_u32(b, 0); /* nreloc */
        mb_u32(b, s->flags);
        mb_u32(b, 0);
        mb_u32(b, 0);
        if (b->is64)
            mb_u32(b, 0);
    }
    mb_end_cmd(b, start);
    return start;
}

size_t mb_linkedit_data(mb *b, uint32_t cmd, uint32_t dataoff, uint32_t datasize)
{
    size_t start = mb_begin_cmd(b, cmd);
    mb_u32(b, dataoff);
    mb_u32(b, datasize);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_uuid(mb *b, const uint8_t uuid[16])
{
    size_t start = mb_begin_cmd(b, SH_LC_UUID);
    mb_bytes(b, uuid, 16);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_build_version(mb *b, uint32_t platform, uint32_t minos, uint32_t sdk, uint32_t ntools,
                        const uint32_t *tool_pairs)
{
    size_t start = mb_begin_cmd(b, SH_LC_BUILD_VERSION);
    mb_u32(b, platform);
    mb_u32(b, minos);
    mb_u32(b, sdk);
    mb_u32(b, ntools);
    for (uint32_t i = 0; i < 2 * ntools; i++)
        mb_u32(b, tool_pairs[i]);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_version_min(mb *b, uint32_t cmd, uint32_t version, uint32_t sdk)
{
    size_t start = mb_begin_cmd(b, cmd);
    mb_u32(b, version);
    mb_u32(b, sdk);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_main(mb *b, uint64_t entryoff, uint64_t stacksize)
{
    size_t start = mb_begin_cmd(b, SH_LC_MAIN);
    mb_u64(b, entryoff);
    mb_u64(b, stacksize);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_dylib(mb *b, uint32_t cmd, const char *name, uint32_t timestamp, uint32_t current,
                uint32_t compat)
{
    size_t start = mb_begin_cmd(b, cmd);
    mb_u32(b, 24);
    mb_u32(b, timestamp);
    mb_u32(b, current);
    mb_u32(b, compat);
    mb_bytes(b, name, strlen(name) + 1);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_lc_str(mb *b, uint32_t cmd, const char *str)
{
    size_t start = mb_begin_cmd(b, cmd);
    mb_u32(b, 12);
    mb_bytes(b, str, strlen(str) + 1);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_encryption_info(mb *b, bool wide, uint32_t cryptoff, uint32_t cryptsize, uint32_t cryptid)
{
    size_t start = mb_begin_cmd(b, wide ? SH_LC_ENCRYPTION_INFO_64 : SH_LC_ENCRYPTION_INFO);
    mb_u32(b, cryptoff);
    mb_u32(b, cryptsize);
    mb_u32(b, cryptid);
    if (wide)
        mb_u32(b, 0);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_dyld_info(mb *b, uint32_t cmd, const uint32_t v[10])
{
    size_t start = mb_begin_cmd(b, cmd);
    for (int i = 0; i < 10; i++)
        mb_u32(b, v[i]);
    mb_end_cmd(b, start);
    return start;
}

size_t mb_symtab(mb *b, uint32_t symoff, uint32_t nsyms, uint32_t stroff, uint32_t strsize)
{
    size_t start = mb_begin_cmd(b, SH_LC_SYMTAB);
    mb_u32(b, symoff);
    mb_u32(b, nsyms);
    mb_u32(b, stroff);
    mb_u32(b, strsize);
    mb_end_cmd(b, start);
    return start;
}

uint8_t *mb_finish(mb *b, size_t *len)
{
    uint8_t *out = malloc(b->len ? b->len : 1);
    if (!out) {
        fprintf(stderr, "macho_builder: out of memory\n");
        exit(2);
    }
    if (b->len)
        memcpy(out, b->data, b->len);
    *len = b->len;
    mb_discard(b);
    return out;
}

void mb_discard(mb *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

const uint8_t mb_std_uuid[16] = {0x4c, 0x4c, 0x44, 0x13, 0x55, 0x55, 0x31, 0x44,
                                 0xa1, 0x8e, 0x3f, 0x1d, 0x49, 0x9d, 0xd4, 0x52};
const char mb_std_dylib_name[] = "/usr/lib/libSystem.B.dylib";

void mb_std_commands(mb *b, mb_std *o)
{
    mb_std local;
    if (!o)
        o = &local;
    const mb_section text = {"__text", "__TEXT", 0x100000800, MB_STD_TEXT_SECT_SIZE,
                             MB_STD_TEXT_SECT_OFF, 2, 0x80000400};
    mb_section text32 = text;
    text32.addr = 0x1800;
    const uint64_t base = b->is64 ? 0x100000000 : 0x1000;
    o->pagezero = mb_segment(b, "__PAGEZERO", 0, base, 0, 0, 0, NULL);
    o->text = mb_segment(b, "__TEXT", base, MB_STD_TEXT_SIZE, 0, MB_STD_TEXT_SIZE, 1,
                         b->is64 ? &text : &text32);
    o->text_section = o->text + (b->is64 ? 72 : 56);
    o->linkedit = mb_segment(b, "__LINKEDIT", base + 0x1000, 0x1000, MB_STD_LINKEDIT_OFF,
                             MB_STD_LINKEDIT_SIZE, 0, NULL);
    o->symtab = mb_symtab(b, MB_STD_SYMOFF, MB_STD_NSYMS, MB_STD_STROFF, MB_STD_STRSIZE);
    o->uuid = mb_uuid(b, mb_std_uuid);
    const uint32_t tools[2] = {SH_TOOL_LD, 0x000e0006};
    o->build_version = mb_build_version(b, SH_PLATFORM_MACOS, 0x000b0000, 0x000d0000, 1, tools);
    o->main_cmd = mb_main(b, MB_STD_TEXT_SECT_OFF, 0);
    o->dylib = mb_dylib(b, SH_LC_LOAD_DYLIB, mb_std_dylib_name, 2, 0x04ca0a01, 0x00010000);
    o->code_signature = mb_linkedit_data(b, SH_LC_CODE_SIGNATURE, MB_STD_SIG_OFF, MB_STD_SIG_SIZE);
    mb_end_commands(b);
}

void mb_std_data(mb *b)
{
    mb_pad_to(b, MB_STD_TEXT_SECT_OFF);
    mb_fill(b, MB_STD_TEXT_SECT_SIZE, 0xc3);
    mb_pad_to(b, MB_STD_STROFF);
    mb_bytes(b, "\0_main\0__mh_execute_header\0", 27);
    mb_pad_to(b, MB_STD_SIG_OFF);
    /* A SuperBlob header (always big-endian): magic, length, count 0. */
    size_t sig = b->len;
    mb_pad_to(b, MB_STD_FILE_SIZE);
    mb_put_u32be(b, sig, 0xfade0cc0);
    mb_put_u32be(b, sig + 4, 12);
    mb_put_u32be(b, sig + 8, 0);
}

uint8_t *mb_std_file(bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype, size_t *len,
                     mb_std *offsets)
{
    mb b;
    mb_begin(&b, is64, big_endian, cputype, cpusubtype, SH_MH_EXECUTE);
    mb_std_commands(&b, offsets);
    mb_std_data(&b);
    return mb_finish(&b, len);
}

void mb_std_begin(mb *b, bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype,
                  mb_std *offsets)
{
    mb_begin(b, is64, big_endian, cputype, cpusubtype, SH_MH_EXECUTE);
    mb_std_commands(b, offsets);
}

uint8_t *mb_std_end(mb *b, size_t *len)
{
    mb_end_commands(b);
    mb_std_data(b);
    return mb_finish(b, len);
}

uint8_t *mb_fat(bool wide, const mb_fat_slice *slices, uint32_t n, size_t trailing, size_t *len)
{
    mb b;
    memset(&b, 0, sizeof b);
    b.big_endian = true;
    mb_u32(&b, wide ? SH_FAT_MAGIC_64 : SH_FAT_MAGIC);
    mb_u32(&b, n);
    const size_t entry_size = wide ? 32 : 20;
    mb_fill(&b, entry_size * n, 0);
    for (uint32_t i = 0; i < n; i++) {
        const mb_fat_slice *s = &slices[i];
        uint64_t offset = s->offset;
        if (offset == 0) {
            uint64_t alignment = (uint64_t)1 << s->align;
            offset = (b.len + alignment - 1) / alignment * alignment;
        }
        mb_pad_to(&b, (size_t)offset);
        if (s->len) {
            if (offset + s->len > b.len) {
                reserve(&b, (size_t)(offset + s->len - b.len));
                b.len = (size_t)(offset + s->len);
            }
            memcpy(b.data + offset, s->data, s->len);
        }
        size_t e = 8 + i * entry_size;
        store(&b, e, (uint32_t)s->cputype, 4, true);
        store(&b, e + 4, (uint32_t)s->cpusubtype, 4, true);
        uint64_t size = s->size ? s->size : s->len;
        if (wide) {
            store(&b, e + 8, offset, 8, true);
            store(&b, e + 16, size, 8, true);
            store(&b, e + 24, s->align, 4, true);
        } else {
            store(&b, e + 8, offset, 4, true);
            store(&b, e + 12, size, 4, true);
            store(&b, e + 16, s->align, 4, true);
        }
    }
    mb_fill(&b, trailing, 0);
    return mb_finish(&b, len);
}
