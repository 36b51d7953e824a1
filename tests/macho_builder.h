/* A small in-memory Mach-O writer for tests: thin files in either width and byte order, load
 * commands one by one (typed helpers or raw bytes), and fat containers around thin slices.
 *
 * Typed helpers return the command's offset in the buffer so a test can patch one field
 * afterwards (mb_put_u32 / mb_put_u64, in the file's byte order) to make it hostile.
 * Buffers handed out are malloc'ed with their exact length, so ASan sees any read past the end.
 * Out of memory in the builder exits the test program (tests only). */
#ifndef SH_TEST_MACHO_BUILDER_H
#define SH_TEST_MACHO_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mb {
    uint8_t *data;
    size_t len, cap;
    bool is64, big_endian;
    uint32_t ncmds;
} mb;

typedef struct mb_section {
    const char *sectname, *segname;
    uint64_t addr, size;
    uint32_t offset, align, flags;
} mb_section;

/* Starts a file with a mach_header (ncmds and sizeofcmds patched by mb_end_commands). */
void mb_begin(mb *b, bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype,
              uint32_t filetype);
size_t mb_header_size(const mb *b);

/* Raw writers, in the file's byte order. */
void mb_u8(mb *b, uint8_t v);
void mb_u32(mb *b, uint32_t v);
void mb_u64(mb *b, uint64_t v);
void mb_word(mb *b, uint64_t v); /* u64 in 64-bit files, u32 in 32-bit ones */
void mb_bytes(mb *b, const void *p, size_t n);
void mb_name16(mb *b, const char *name);
void mb_fill(mb *b, size_t n, uint8_t byte);
void mb_pad_to(mb *b, size_t offset); /* zero bytes up to offset */
void mb_put_u32(mb *b, size_t offset, uint32_t v);
void mb_put_u64(mb *b, size_t offset, uint64_t v);
void mb_put_u32be(mb *b, size_t offset, uint32_t v);

/* Commands: begin writes {cmd, cmdsize = 0}; end pads with zeros to 4 (32-bit) or 8 (64-bit),
 * patches cmdsize and counts the command. */
size_t mb_begin_cmd(mb *b, uint32_t cmd);
void mb_end_cmd(mb *b, size_t start);
/* A command written verbatim: {cmd, cmdsize} then payload; no padding, cmdsize as given. */
size_t mb_raw_cmd(mb *b, uint32_t cmd, uint32_t cmdsize, const void *payload, size_t n);
/* Patches ncmds and sizeofcmds (everything written after the header so far). */
void mb_end_commands(mb *b);

size_t mb_segment(mb *b, const char *name, uint64_t vmaddr, uint64_t vmsize, uint64_t fileoff,
                  uint64_t filesize, uint32_t nsects, const mb_section *sects);
size_t mb_linkedit_data(mb *b, uint32_t cmd, uint32_t dataoff, uint32_t datasize);
size_t mb_uuid(mb *b, const uint8_t uuid[16]);
size_t mb_build_version(mb *b, uint32_t platform, uint32_t minos, uint32_t sdk, uint32_t ntools,
                        const uint32_t *tool_pairs);
size_t mb_version_min(mb *b, uint32_t cmd, uint32_t version, uint32_t sdk);
size_t mb_main(mb *b, uint64_t entryoff, uint64_t stacksize);
size_t mb_dylib(mb *b, uint32_t cmd, const char *name, uint32_t timestamp, uint32_t current,
                uint32_t compat);
size_t mb_lc_str(mb *b, uint32_t cmd, const char *str);
size_t mb_encryption_info(mb *b, bool wide, uint32_t cryptoff, uint32_t cryptsize, uint32_t cryptid);
size_t mb_dyld_info(mb *b, uint32_t cmd, const uint32_t v[10]);
size_t mb_symtab(mb *b, uint32_t symoff, uint32_t nsyms, uint32_t stroff, uint32_t strsize);

/* Hands out the bytes (malloc'ed, exactly *len long) and resets the builder. */
uint8_t *mb_finish(mb *b, size_t *len);
void mb_discard(mb *b);

/* A typical signed executable: __PAGEZERO, __TEXT [0, 0x1000) with __text at 0x800 (0x100 bytes),
 * __LINKEDIT [0x1000, 0x1200), LC_SYMTAB, LC_UUID, LC_BUILD_VERSION (macOS 11.0, sdk 13.0, ld
 * 14.0.6), LC_MAIN (0x800), LC_LOAD_DYLIB libSystem, LC_CODE_SIGNATURE [0x1100, 0x1200) holding
 * an empty-ish SuperBlob header.  Offsets of each command are recorded for patching. */
enum {
    MB_STD_TEXT_SIZE = 0x1000,
    MB_STD_TEXT_SECT_OFF = 0x800,
    MB_STD_TEXT_SECT_SIZE = 0x100,
    MB_STD_LINKEDIT_OFF = 0x1000,
    MB_STD_LINKEDIT_SIZE = 0x200,
    MB_STD_SYMOFF = 0x1000,
    MB_STD_NSYMS = 2,
    MB_STD_STROFF = 0x1040,
    MB_STD_STRSIZE = 0x20,
    MB_STD_SIG_OFF = 0x1100,
    MB_STD_SIG_SIZE = 0x100,
    MB_STD_FILE_SIZE = 0x1200,
    MB_STD_NCMDS = 9,
};
typedef struct mb_std {
    size_t pagezero, text, text_section, linkedit, symtab, uuid, build_version, main_cmd, dylib,
        code_signature;
} mb_std;
extern const uint8_t mb_std_uuid[16];
extern const char mb_std_dylib_name[];

/* Writes the standard commands into b (after mb_begin) without finishing it. */
void mb_std_commands(mb *b, mb_std *offsets);
/* Writes the standard file data after the commands (pads, symbols, signature). */
void mb_std_data(mb *b);
uint8_t *mb_std_file(bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype, size_t *len,
                     mb_std *offsets);
/* The standard file with extra commands: begin, add commands with the helpers, then end (which
 * re-patches ncmds/sizeofcmds, writes the data and finishes).  Extra commands must keep the
 * command area below MB_STD_TEXT_SECT_OFF (about 1500 bytes of room). */
void mb_std_begin(mb *b, bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype,
                  mb_std *offsets);
uint8_t *mb_std_end(mb *b, size_t *len);

/* Fat container: slices placed at offset (0 = the next multiple of 2^align after the previous
 * slice or the header), zero-filled gaps, file ends with the last slice plus trailing bytes. */
typedef struct mb_fat_slice {
    const uint8_t *data;
    size_t len;
    int32_t cputype, cpusubtype;
    uint32_t align;
    uint64_t offset;
    uint64_t size; /* 0 = len; lets a fat_arch lie about the size */
} mb_fat_slice;
uint8_t *mb_fat(bool wide, const mb_fat_slice *slices, uint32_t n, size_t trailing, size_t *len);

#endif
