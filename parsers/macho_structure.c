/* codesign's structural rules for Mach-O and fat files (Security's macho++.cpp "suspicious"
 * checks, which --strict turns into errSecCSBadMainExecutable), applied to a parsed file. */
#include <string.h>

#include "sh_limits.h"
#include "macho.h"
#include "macho_internal.h"

static sh_err check_no_duplicate_archs(const sh_macho_file *f, sh_error *err)
{
    for (uint32_t a = 0; a < f->nslices; a++) {
        const sh_macho_slice *x = &f->slices[a];
        for (uint32_t b = 0; b < a; b++) {
            const sh_macho_slice *y = &f->slices[b];
            if (x->fat_cputype == y->fat_cputype &&
                ((uint32_t)x->fat_cpusubtype & ~SH_CPU_SUBTYPE_MASK) ==
                    ((uint32_t)y->fat_cpusubtype & ~SH_CPU_SUBTYPE_MASK))
                return sh_fail_value(err, SH_E_FAT_DUPLICATE_ARCH, "fat_arch", a,
                                     sh_macho_fat_arch_position(f, a), (uint32_t)x->fat_cputype);
        }
    }
    return SH_E_OK;
}

static bool all_zero(const sh_cursor *file, uint64_t from, uint64_t to)
{
    sh_cursor gap;
    return to >= from && sh_cursor_sub(file, from, to - from, &gap) && sh_cursor_all_zero(&gap);
}

/* Security's Universal: slices sorted by offset must not overlap (the header either), the gap
 * before each slice but the first must be < 2^align, gaps must be zero, and the last slice must
 * end the file.  We also require align <= MAX_ALIGN for every slice and offsets aligned to it. */
static sh_err check_fat_layout(const sh_macho_file *f, sh_error *err)
{
    uint32_t order[SH_MAX_FAT_ARCHS + 1];
    const uint32_t n = f->nslices;
    if (n == 0 || n > SH_MAX_FAT_ARCHS + 1) /* cannot happen for a parsed file */
        return sh_fail_value(err, SH_E_FAT_TOO_MANY_ARCHS, "fat_header", -1, 0, n);
    for (uint32_t i = 0; i < n; i++) { /* insertion sort by offset; n <= 65 */
        uint32_t j = i;
        while (j > 0 && f->slices[order[j - 1]].offset > f->slices[i].offset) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    uint64_t prev_end = sh_macho_fat_arch_position(f, n); /* end of the header and arch table */
    for (uint32_t k = 0; k < n; k++) {
        const uint32_t i = order[k];
        const sh_macho_slice *s = &f->slices[i];
        const uint64_t at = sh_macho_fat_arch_position(f, i);
        if (s->fat_align > SH_MAX_FAT_ALIGN)
            return sh_fail_value(err, SH_E_FAT_ALIGN_TOO_LARGE, "fat_arch", i, at, s->fat_align);
        const uint64_t alignment = (uint64_t)1 << s->fat_align;
        if (s->offset % alignment != 0)
            return sh_fail_value(err, SH_E_FAT_SLICE_MISALIGNED, "fat_arch", i, at, s->offset);
        if (s->offset < prev_end)
            return sh_fail_value(err, SH_E_FAT_SLICE_OVERLAP, "fat_arch", i, at, s->offset);
        if (k > 0 && s->offset - prev_end >= alignment)
            return sh_fail_value(err, SH_E_FAT_GAP, "fat_arch", i, at, s->offset - prev_end);
        if (!all_zero(&f->data, prev_end, s->offset))
            return sh_fail_value(err, SH_E_FAT_PADDING_NOT_ZERO, "fat_arch", i, at, prev_end);
        prev_end = s->offset + s->size; /* inside the file: checked by the parser */
    }
    if (prev_end != f->file_size)
        return sh_fail_value(err, SH_E_FAT_GAP, "fat file", -1, prev_end, f->file_size - prev_end);
    return SH_E_OK;
}

static uint64_t segment_end(const sh_macho_segment *seg) { return seg->fileoff + seg->filesize; }

static sh_err check_segments_disjoint(const sh_macho_slice *s, sh_error *err)
{
    for (uint32_t a = 0; a < s->nsegments; a++) {
        const sh_macho_segment *x = &s->segments[a];
        if (x->filesize == 0)
            continue;
        for (uint32_t b = 0; b < a; b++) {
            const sh_macho_segment *y = &s->segments[b];
            if (y->filesize != 0 && x->fileoff < segment_end(y) && y->fileoff < segment_end(x))
                return sh_fail_value(err, SH_E_MACHO_SEGMENT_OVERLAP, "segment", x->command_index,
                                     sh_macho_command_position(s, x->command_index), x->fileoff);
        }
    }
    return SH_E_OK;
}

/* Security's MachO::validateStructure: whichever comes first in the load commands, __LINKEDIT or
 * LC_SYMTAB (old PPC binaries), must end exactly at the end of the slice.  Security also calls a
 * slice with neither suspicious; we accept it (object files, and nothing there to sign). */
static sh_err check_linkedit_ends_slice(const sh_macho_slice *s, sh_error *err)
{
    const sh_macho_segment *linkedit =
        s->linkedit_segment >= 0 ? &s->segments[s->linkedit_segment] : NULL;
    if (s->has_symtab && (!linkedit || s->symtab_command_index < linkedit->command_index)) {
        uint64_t end = (uint64_t)s->stroff + s->strsize;
        if (end != s->size)
            return sh_fail_value(err, SH_E_MACHO_LINKEDIT_NOT_LAST, "LC_SYMTAB",
                                 s->symtab_command_index,
                                 sh_macho_command_position(s, s->symtab_command_index), end);
        return SH_E_OK;
    }
    if (linkedit && segment_end(linkedit) != s->size)
        return sh_fail_value(err, SH_E_MACHO_LINKEDIT_NOT_LAST, "segment", linkedit->command_index,
                             sh_macho_command_position(s, linkedit->command_index), segment_end(linkedit));
    return SH_E_OK;
}

/* The signature must sit inside __LINKEDIT and end it: the page hashes cover [0, dataoff), so
 * anything after the signature would be unsigned.  Every real signed sample (ld64, lld, Go,
 * codesign, isign, zsign) ends __LINKEDIT exactly at dataoff + datasize, padding included. */
static sh_err check_signature_placement(const sh_macho_slice *s, sh_error *err)
{
    const sh_macho_linkedit_data *cs = &s->code_signature;
    if (!cs->present)
        return SH_E_OK;
    const uint64_t at = sh_macho_command_position(s, cs->command_index);
    if (s->linkedit_segment < 0)
        return sh_fail(err, SH_E_MACHO_NO_LINKEDIT, "LC_CODE_SIGNATURE", cs->command_index, at);
    const sh_macho_segment *linkedit = &s->segments[s->linkedit_segment];
    const uint64_t end = (uint64_t)cs->dataoff + cs->datasize;
    if (cs->dataoff < linkedit->fileoff || end > segment_end(linkedit))
        return sh_fail_value(err, SH_E_MACHO_SIGNATURE_OUTSIDE_LINKEDIT, "LC_CODE_SIGNATURE",
                             cs->command_index, at, cs->dataoff);
    if (end != segment_end(linkedit))
        return sh_fail_value(err, SH_E_MACHO_SIGNATURE_NOT_AT_END, "LC_CODE_SIGNATURE",
                             cs->command_index, at, end);
    return SH_E_OK;
}

sh_err sh_macho_check_structure(const sh_macho_file *f, sh_error *err)
{
    sh_err e;
    if (!f)
        return sh_fail(err, SH_E_NOT_MACHO, "file", -1, 0);
    if (f->fat) {
        if ((e = check_no_duplicate_archs(f, err)) != SH_E_OK)
            return e;
        if ((e = check_fat_layout(f, err)) != SH_E_OK)
            return e;
    }
    for (uint32_t i = 0; i < f->nslices; i++) {
        const sh_macho_slice *s = &f->slices[i];
        if ((e = check_segments_disjoint(s, err)) != SH_E_OK)
            return e;
        if ((e = check_linkedit_ends_slice(s, err)) != SH_E_OK)
            return e;
        if ((e = check_signature_placement(s, err)) != SH_E_OK)
            return e;
    }
    return SH_E_OK;
}

sh_err sh_macho_signature(const sh_macho_slice *s, sh_cursor *out, sh_error *err)
{
    if (!s || !out)
        return sh_fail(err, SH_E_MACHO_UNSIGNED, "slice", -1, 0);
    if (!s->code_signature.present)
        return sh_fail(err, SH_E_MACHO_UNSIGNED, "slice", -1, sh_cursor_pos(&s->data));
    const sh_macho_linkedit_data *cs = &s->code_signature;
    if (!sh_cursor_sub(&s->data, cs->dataoff, cs->datasize, out))
        return sh_fail_value(err, SH_E_MACHO_LINKEDIT_DATA_OUT_OF_FILE, "LC_CODE_SIGNATURE",
                             cs->command_index, sh_macho_command_position(s, cs->command_index), cs->dataoff);
    return SH_E_OK;
}

