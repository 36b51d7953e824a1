/* Synthesises realistic macOS executables: thin arm64 / x86_64 MH_EXECUTE (64-bit little-endian)
 * signed ad hoc, and fat files of such slices.
 *
 * A thin slice is laid out as ld64 lays out a small program:
 *   __PAGEZERO (4 GiB, no file data) | __TEXT: header, load commands, __text |
 *   __DATA_CONST: __const | __LINKEDIT: function starts, then the code signature.
 * Segments are page aligned (16 KiB arm64, 4 KiB x86_64); the signature starts 16-aligned, is the
 * last thing in __LINKEDIT, and __LINKEDIT ends the file, as codesign's structural checks
 * require (codesign-formats.md sec. 1).  Load commands: LC_SEGMENT_64 x4, LC_LOAD_DYLINKER,
 * LC_UUID, LC_BUILD_VERSION (macOS 11.0, SDK 14.0, ld), LC_MAIN, LC_LOAD_DYLIB libSystem,
 * LC_FUNCTION_STARTS, LC_CODE_SIGNATURE.
 *
 * Signing: LC_CODE_SIGNATURE's dataoff/datasize are final before any page is hashed (the pages
 * cover the header and that command); execSeg = __TEXT with CS_EXECSEG_MAIN_BINARY.
 *
 * Output is a pure function of the spec: same spec, same bytes (UUID and code bytes are derived
 * from the spec, nothing reads clocks or randomness). */
#ifndef SH_MACHO_SYNTH_H
#define SH_MACHO_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "codedir_writer.h"
#include "macho.h"

typedef enum sh_synth_arch {
    SH_SYNTH_ARM64 = 0,
    SH_SYNTH_X86_64 = 1,
} sh_synth_arch;

#define SH_SYNTH_DEFAULT_TEXT_SIZE 256u
#define SH_SYNTH_TEXT_VMADDR 0x100000000ull /* __TEXT sits above the 4 GiB __PAGEZERO */
#define SH_SYNTH_NSEGMENTS 4u

typedef struct sh_synth_spec {
    sh_synth_arch arch;
    /* Bytes in __TEXT,__text: an entry stub (return 0) followed by deterministic filler derived
     * from seed.  0 means SH_SYNTH_DEFAULT_TEXT_SIZE; at least the stub's size. */
    uint64_t text_size;
    uint64_t seed;
    /* false: no LC_CODE_SIGNATURE and no signature (an unsigned binary). */
    bool sign;
    /* The signature.  The synthesiser fills cd.exec_seg_base/limit from __TEXT and ORs
     * CS_EXECSEG_MAIN_BINARY into cd.exec_seg_flags (for versions >= 0x20400). */
    sh_sig_params sig;
} sh_synth_spec;

/* Signed ad hoc with codesign's defaults (sh_sig_params_init), default text size, seed 0. */
void sh_synth_spec_init(sh_synth_spec *s, sh_synth_arch arch, const char *identifier);

typedef struct sh_synth_segment {
    const char *name;
    uint64_t vmaddr, vmsize, fileoff, filesize;
} sh_synth_segment;

/* Where everything is, slice-relative; what tests compare against parsers and llvm-objdump. */
typedef struct sh_synth_layout {
    int32_t cputype, cpusubtype;
    uint32_t page_size;  /* segment alignment */
    uint32_t fat_align;  /* log2 alignment of this slice in a fat file (cctools: 14 / 12) */
    uint32_t ncmds, sizeofcmds;
    uint32_t cmds[16];   /* load command ids in file order */
    sh_synth_segment segments[SH_SYNTH_NSEGMENTS]; /* __PAGEZERO, __TEXT, __DATA_CONST, __LINKEDIT */
    uint64_t text_offset, text_size;   /* __TEXT,__text section (also the LC_MAIN entry offset) */
    uint64_t const_offset, const_size; /* __DATA_CONST,__const section */
    uint64_t function_starts_offset, function_starts_size;
    uint64_t signature_offset;         /* LC_CODE_SIGNATURE dataoff = code limit; 0 if unsigned */
    uint64_t signature_size;           /* datasize (padded) */
    uint64_t superblob_size;           /* the SuperBlob's own length (<= signature_size) */
    uint64_t file_size;
    sh_sig_params sig;                 /* the parameters signed with, execSeg filled in */
} sh_synth_layout;

/* Computes the layout without writing anything. */
sh_write_status sh_synth_layout_compute(const sh_synth_spec *s, sh_synth_layout *layout,
                                        sh_write_error *err);

/* Appends one thin slice at out->len (all offsets inside it are slice-relative).  layout may
 * be NULL. */
sh_write_status sh_synth_thin(const sh_synth_spec *s, sh_bytebuf *out, sh_synth_layout *layout,
                              sh_write_error *err);

/* ---- fat files ---------------------------------------------------------------------------- */

#define SH_SYNTH_MAX_SLICES 8u

/* One slice of a fat file as placed: the fat_arch fields. */
typedef struct sh_fat_placement {
    int32_t cputype, cpusubtype;
    uint32_t offset, size, align; /* align is log2 */
    size_t input_index;           /* which input this is */
} sh_fat_placement;

/* An existing thin slice to wrap into a fat file. */
typedef struct sh_fat_input {
    int32_t cputype, cpusubtype;
    uint32_t align; /* log2; <= SH_MAX_FAT_ALIGN */
    sh_bytes bytes;
} sh_fat_input;

/* Appends a FAT_MAGIC file holding the given slices.  Following cctools lipo, slices are placed
 * in ascending alignment order (stable), each at the first multiple of 2^align after the
 * previous one, the first after the header; the file ends with the last slice.  placements
 * (n entries, file order) may be NULL.  Refuses two slices of one cputype/cpusubtype. */
sh_write_status sh_fat_write(const sh_fat_input *inputs, size_t n, sh_bytebuf *out,
                             sh_fat_placement *placements, sh_write_error *err);

/* Synthesises each spec as a slice (each signed on its own) and wraps them into a fat file,
 * writing each slice in place (no copies, which matters for large slices). */
sh_write_status sh_synth_fat(const sh_synth_spec *specs, size_t n, sh_bytebuf *out,
                             sh_fat_placement *placements, sh_write_error *err);

#endif
