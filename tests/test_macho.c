/* Mach-O parser: decoded fields of built files (thin/fat, both widths and byte orders, every
 * typed load command), codesign's structural rules, names, allocation failure, and the external
 * real-world samples in ../shared/external-samples/macho. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macho.h"
#include "macho_builder.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static sh_err parse(const uint8_t *data, size_t len, sh_macho_file *f, sh_error *err)
{
    memset(err, 0, sizeof *err);
    return sh_macho_parse(data, len, NULL, f, err);
}

static void assert_parse_ok(const uint8_t *data, size_t len, sh_macho_file *f)
{
    sh_error err;
    sh_err e = parse(data, len, f, &err);
    if (e != SH_E_OK) {
        char msg[256];
        sh_error_format(&err, msg, sizeof msg);
        print_error("parse failed: %s: %s\n", sh_err_name(e), msg);
    }
    assert_int_equal(e, SH_E_OK);
}

/* The decoded standard file (macho_builder.h), for any width, order and slice position. */
static void assert_standard_slice(const sh_macho_slice *s, bool is64, uint64_t slice_offset)
{
    assert_int_equal(s->is64, is64);
    assert_int_equal(s->offset, slice_offset);
    assert_int_equal(sh_cursor_pos(&s->data), slice_offset);
    assert_int_equal(s->size, MB_STD_FILE_SIZE);
    assert_int_equal(s->filetype, SH_MH_EXECUTE);
    assert_int_equal(s->ncmds, MB_STD_NCMDS);
    assert_int_equal(s->flags, 0x00200085);

    assert_int_equal(s->nsegments, 3);
    assert_string_equal(s->segments[0].segname, "__PAGEZERO");
    assert_string_equal(s->segments[1].segname, "__TEXT");
    assert_string_equal(s->segments[2].segname, "__LINKEDIT");
    assert_int_equal(s->text_segment, 1);
    assert_int_equal(s->linkedit_segment, 2);
    const sh_macho_segment *text = &s->segments[1];
    assert_int_equal(text->vmaddr, is64 ? 0x100000000 : 0x1000);
    assert_int_equal(text->fileoff, 0);
    assert_int_equal(text->filesize, MB_STD_TEXT_SIZE);
    assert_int_equal(text->nsects, 1);
    assert_int_equal(text->first_section, 0);
    assert_int_equal(text->command_index, 1);
    assert_int_equal(text->maxprot, 7);
    assert_int_equal(text->initprot, 5);
    const sh_macho_segment *linkedit = &s->segments[2];
    assert_int_equal(linkedit->fileoff, MB_STD_LINKEDIT_OFF);
    assert_int_equal(linkedit->filesize, MB_STD_LINKEDIT_SIZE);

    assert_int_equal(s->nsections, 1);
    assert_string_equal(s->sections[0].sectname, "__text");
    assert_string_equal(s->sections[0].segname, "__TEXT");
    assert_int_equal(s->sections[0].offset, MB_STD_TEXT_SECT_OFF);
    assert_int_equal(s->sections[0].size, MB_STD_TEXT_SECT_SIZE);
    assert_int_equal(s->sections[0].addr, is64 ? 0x100000800 : 0x1800);
    assert_int_equal(s->sections[0].align, 2);
    assert_int_equal(s->sections[0].flags, 0x80000400);
    assert_int_equal(s->sections[0].segment_index, 1);

    assert_true(s->has_symtab);
    assert_int_equal(s->symoff, MB_STD_SYMOFF);
    assert_int_equal(s->nsyms, MB_STD_NSYMS);
    assert_int_equal(s->stroff, MB_STD_STROFF);
    assert_int_equal(s->strsize, MB_STD_STRSIZE);
    assert_true(s->has_uuid);
    assert_memory_equal(s->uuid, mb_std_uuid, 16);
    assert_true(s->has_build_version);
    assert_int_equal(s->build_version_count, 1);
    assert_int_equal(s->platform, SH_PLATFORM_MACOS);
    assert_int_equal(s->minos, 0x000b0000);
    assert_int_equal(s->sdk, 0x000d0000);
    assert_int_equal(s->ntools, 1);
    assert_int_equal(s->tools[0].tool, SH_TOOL_LD);
    assert_int_equal(s->tools[0].version, 0x000e0006);
    assert_true(s->has_main);
    assert_int_equal(s->entryoff, MB_STD_TEXT_SECT_OFF);
    assert_int_equal(s->stacksize, 0);
    assert_int_equal(s->ndylibs, 1);
    assert_int_equal(s->dylibs[0].cmd, SH_LC_LOAD_DYLIB);
    assert_string_equal(s->dylibs[0].name, mb_std_dylib_name);
    assert_int_equal(s->dylibs[0].name_len, strlen(mb_std_dylib_name));
    assert_int_equal(s->dylibs[0].timestamp, 2);
    assert_int_equal(s->dylibs[0].current_version, 0x04ca0a01);
    assert_int_equal(s->dylibs[0].compatibility_version, 0x00010000);
    assert_true(s->code_signature.present);
    assert_int_equal(s->code_signature.dataoff, MB_STD_SIG_OFF);
    assert_int_equal(s->code_signature.datasize, MB_STD_SIG_SIZE);
    assert_int_equal(s->code_signature.command_index, 8);

    /* Generic walk: every command, slice-relative offsets, lc_str recorded. */
    assert_int_equal(s->commands[0].offset, is64 ? 32 : 28);
    assert_int_equal(s->commands[1].cmd, is64 ? SH_LC_SEGMENT_64 : SH_LC_SEGMENT);
    assert_int_equal(s->commands[1].cmdsize, is64 ? 72 + 80 : 56 + 68);
    assert_int_equal(s->commands[7].cmd, SH_LC_LOAD_DYLIB);
    assert_string_equal(s->commands[7].str, mb_std_dylib_name);
    assert_null(s->commands[0].str);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s->ncmds; i++)
        sum += s->commands[i].cmdsize;
    assert_int_equal(sum, s->sizeofcmds);

    /* The signature view is absolute in the file. */
    sh_cursor sig;
    sh_error err;
    assert_int_equal(sh_macho_signature(s, &sig, &err), SH_E_OK);
    assert_int_equal(sh_cursor_len(&sig), MB_STD_SIG_SIZE);
    assert_int_equal(sh_cursor_pos(&sig), slice_offset + MB_STD_SIG_OFF);
    uint32_t magic;
    assert_true(sh_cursor_u32be_at(&sig, 0, &magic));
    assert_int_equal(magic, 0xfade0cc0);

    sh_cursor view;
    assert_true(sh_macho_load_command_view(s, 8, &view));
    assert_int_equal(sh_cursor_len(&view), 16);
    assert_int_equal(sh_cursor_pos(&view), slice_offset + s->commands[8].offset);
    assert_false(sh_macho_load_command_view(s, s->ncmds, &view));
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

/* ---- thin files ------------------------------------------------------------------------------- */

static void check_thin(bool is64, bool big_endian, int32_t cputype, int32_t cpusubtype,
                       uint32_t magic, const char *arch)
{
    size_t len;
    uint8_t *data = mb_std_file(is64, big_endian, cputype, cpusubtype, &len, NULL);
    sh_macho_file f;
    assert_parse_ok(data, len, &f);
    assert_false(f.fat);
    assert_int_equal(f.fat_magic, 0);
    assert_int_equal(f.nslices, 1);
    assert_int_equal(f.file_size, len);
    const sh_macho_slice *s = &f.slices[0];
    assert_int_equal(s->magic, magic);
    assert_int_equal(s->big_endian, big_endian);
    assert_int_equal(s->cputype, cputype);
    assert_int_equal(s->cpusubtype, cpusubtype);
    assert_string_equal(sh_macho_cpu_name(s->cputype, s->cpusubtype), arch);
    assert_standard_slice(s, is64, 0);
    sh_error err;
    assert_int_equal(sh_macho_check_structure(&f, &err), SH_E_OK);
    sh_macho_free(&f);
    assert_null(f.slices);
    assert_int_equal(f.nslices, 0);
    free(data);
}

static void thin_64_little_endian(void **state)
{
    (void)state;
    check_thin(true, false, SH_CPU_TYPE_ARM64, 0, SH_MH_MAGIC_64, "arm64");
}

static void thin_64_big_endian_is_cigam(void **state)
{
    (void)state;
    check_thin(true, true, SH_CPU_TYPE_POWERPC64, 0, SH_MH_CIGAM_64, "ppc64");
}

static void thin_32_little_endian(void **state)
{
    (void)state;
    check_thin(false, false, SH_CPU_TYPE_ARM, SH_CPU_SUBTYPE_ARM_V7, SH_MH_MAGIC, "armv7");
}

static void thin_32_big_endian_is_cigam(void **state)
{
    (void)state;
    check_thin(false, true, SH_CPU_TYPE_POWERPC, 0, SH_MH_CIGAM, "ppc");
}

/* ---- fat files -------------------------------------------------------------------------------- */

/* x86_64 at 0x1000 (align 12) and arm64 at 0x4000 (align 14), as lipo lays them out. */
static uint8_t *std_fat(bool wide, size_t trailing, size_t *len)
{
    size_t l1, l2;
    uint8_t *a = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &l1, NULL);
    uint8_t *b = mb_std_file(true, false, SH_CPU_TYPE_ARM64, 0, &l2, NULL);
    const mb_fat_slice slices[2] = {
        {a, l1, SH_CPU_TYPE_X86_64, 3, 12, 0, 0},
        {b, l2, SH_CPU_TYPE_ARM64, 0, 14, 0, 0},
    };
    uint8_t *fat = mb_fat(wide, slices, 2, trailing, len);
    free(a);
    free(b);
    return fat;
}

static void check_fat(bool wide)
{
    size_t len;
    uint8_t *data = std_fat(wide, 0, &len);
    sh_macho_file f;
    assert_parse_ok(data, len, &f);
    assert_true(f.fat);
    assert_int_equal(f.fat_magic, wide ? SH_FAT_MAGIC_64 : SH_FAT_MAGIC);
    assert_int_equal(f.nfat_arch, 2);
    assert_false(f.hidden_slice);
    assert_int_equal(f.nslices, 2);
    assert_int_equal(len, 0x4000 + MB_STD_FILE_SIZE);
    assert_int_equal(f.slices[0].offset, 0x1000);
    assert_int_equal(f.slices[0].fat_align, 12);
    assert_int_equal(f.slices[0].fat_cputype, SH_CPU_TYPE_X86_64);
    assert_int_equal(f.slices[0].fat_cpusubtype, 3);
    assert_string_equal(sh_macho_cpu_name(f.slices[0].cputype, f.slices[0].cpusubtype), "x86_64");
    assert_int_equal(f.slices[1].offset, 0x4000);
    assert_int_equal(f.slices[1].fat_align, 14);
    assert_string_equal(sh_macho_cpu_name(f.slices[1].cputype, f.slices[1].cpusubtype), "arm64");
    assert_standard_slice(&f.slices[0], true, 0x1000);
    assert_standard_slice(&f.slices[1], true, 0x4000);
    sh_error err;
    assert_int_equal(sh_macho_check_structure(&f, &err), SH_E_OK);
    sh_macho_free(&f);
    free(data);
}

static void fat_with_two_slices(void **state)
{
    (void)state;
    check_fat(false);
}

static void fat_magic_64(void **state)
{
    (void)state;
    check_fat(true);
}

/* Security's Universal counts one more fat_arch when its cputype is arm64 (hidden slice). */
static void fat_hidden_arm64_slice_is_counted(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = std_fat(false, 0, &len);
    data[7] = 1; /* nfat_arch 2 -> 1: the arm64 entry is now past the declared table */
    sh_macho_file f;
    assert_parse_ok(data, len, &f);
    assert_int_equal(f.nfat_arch, 1);
    assert_true(f.hidden_slice);
    assert_int_equal(f.nslices, 2);
    assert_int_equal(f.slices[1].cputype, SH_CPU_TYPE_ARM64);
    sh_error err;
    assert_int_equal(sh_macho_check_structure(&f, &err), SH_E_OK);
    sh_macho_free(&f);
    free(data);
}

/* Errors in a slice name absolute file offsets. */
static void errors_in_a_slice_use_file_offsets(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = std_fat(false, 0, &len);
    memset(data + 0x4000 + 32 + 4, 0, 4); /* arm64 slice, load command 0: cmdsize 0 */
    sh_macho_file f;
    sh_error err;
    assert_int_equal(parse(data, len, &f, &err), SH_E_MACHO_CMDSIZE_TOO_SMALL);
    assert_string_equal(err.where, "load command");
    assert_int_equal(err.index, 0);
    assert_int_equal(err.offset, 0x4000 + 32);
    assert_null(f.slices);
    sh_macho_free(&f);
    free(data);
}

static void java_class_and_byte_swapped_fat_are_refused(void **state)
{
    (void)state;
    uint8_t java[16] = {0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0x00, 0x10};
    sh_macho_file f;
    sh_error err;
    assert_int_equal(parse(java, sizeof java, &f, &err), SH_E_NOT_MACHO);
    assert_int_equal(err.value, 0x34);
    java[7] = 45; /* the lowest class-file major version */
    assert_int_equal(parse(java, sizeof java, &f, &err), SH_E_NOT_MACHO);
    java[7] = 44; /* now a fat header with 44 archs and no table behind it */
    assert_int_equal(parse(java, sizeof java, &f, &err), SH_E_MACHO_TRUNCATED);
    const uint8_t cigam[16] = {0xbe, 0xba, 0xfe, 0xca, 0x02, 0x00, 0x00, 0x00};
    assert_int_equal(parse(cigam, sizeof cigam, &f, &err), SH_E_FAT_BYTE_SWAPPED);
    sh_macho_free(&f);
}

/* ---- typed load commands ---------------------------------------------------------------------- */

static const char *const dylib_names[6] = {
    "@rpath/libkitchen.dylib", "/usr/lib/libSystem.B.dylib", "/usr/lib/libweak.dylib",
    "/usr/lib/libreexport.dylib", "/usr/lib/liblazy.dylib", "/usr/lib/libupward.dylib",
};
static const uint32_t dylib_cmds[6] = {
    SH_LC_ID_DYLIB, SH_LC_LOAD_DYLIB, SH_LC_LOAD_WEAK_DYLIB,
    SH_LC_REEXPORT_DYLIB, SH_LC_LAZY_LOAD_DYLIB, SH_LC_LOAD_UPWARD_DYLIB,
};
static const struct {
    uint32_t cmd, off, size;
} linkedit_cmds[] = {
    {SH_LC_DYLD_CHAINED_FIXUPS, 0x2000, 0x40},  {SH_LC_DYLD_EXPORTS_TRIE, 0x2040, 0x20},
    {SH_LC_FUNCTION_STARTS, 0x2060, 0x8},       {SH_LC_DATA_IN_CODE, 0x2068, 0},
    {SH_LC_SEGMENT_SPLIT_INFO, 0x2068, 0x8},    {SH_LC_DYLIB_CODE_SIGN_DRS, 0x2070, 0x10},
    {SH_LC_LINKER_OPTIMIZATION_HINT, 0x2080, 0x10}, {SH_LC_ATOM_INFO, 0x2090, 0x10},
    {SH_LC_FUNCTION_VARIANTS, 0x20a0, 0x10},    {SH_LC_FUNCTION_VARIANT_FIXUPS, 0x20b0, 0x10},
    {SH_LC_CODE_SIGNATURE, 0x2f00, 0x100},
};
static const uint32_t dyld_info_values[10] = {0x2100, 0x10, 0x2110, 0x20, 0, 0,
                                              0x2130, 0x8, 0x2138, 0x18};

/* A 64-bit dylib carrying every typed command the parser decodes. */
static uint8_t *kitchen_sink(size_t *len)
{
    mb b;
    mb_begin(&b, true, false, SH_CPU_TYPE_ARM64, SH_CPU_SUBTYPE_ARM64E | (int32_t)0x80000000,
             SH_MH_DYLIB);
    const mb_section text[1] = {{"__text", NULL, 0x400, 0x10, 0x400, 2, 0x80000400}};
    const mb_section data[3] = {
        {"__data", NULL, 0x1000, 0x10, 0x1000, 3, 0},
        {"__bss", NULL, 0x1010, 0x2000, 0, 3, SH_S_ZEROFILL},
        {"__thread_bss", NULL, 0x3010, 0x100, 0, 3, SH_S_THREAD_LOCAL_ZEROFILL},
    };
    mb_segment(&b, "__TEXT", 0, 0x1000, 0, 0x1000, 1, text);
    mb_segment(&b, "__DATA", 0x1000, 0x3000, 0x1000, 0x1000, 3, data);
    mb_segment(&b, "__LINKEDIT", 0x4000, 0x1000, 0x2000, 0x1000, 0, NULL);
    for (size_t i = 0; i < sizeof linkedit_cmds / sizeof linkedit_cmds[0]; i++)
        mb_linkedit_data(&b, linkedit_cmds[i].cmd, linkedit_cmds[i].off, linkedit_cmds[i].size);
    mb_uuid(&b, mb_std_uuid);
    const uint32_t tools[4] = {SH_TOOL_CLANG, 0x000f0000, SH_TOOL_LD, 0x03ba0000};
    mb_build_version(&b, SH_PLATFORM_IOS, 0x000e0500, 0x00110000, 2, tools);
    mb_version_min(&b, SH_LC_VERSION_MIN_MACOSX, 0x000a0f00, 0x000b0000);
    mb_main(&b, 0x400, 0x10000);
    for (int i = 0; i < 6; i++)
        mb_dylib(&b, dylib_cmds[i], dylib_names[i], 2, 0x00010203 + (uint32_t)i, 0x00010000);
    mb_encryption_info(&b, true, 0x400, 0xc00, 1);
    mb_dyld_info(&b, SH_LC_DYLD_INFO_ONLY, dyld_info_values);
    mb_lc_str(&b, SH_LC_RPATH, "@executable_path/../Frameworks");
    mb_lc_str(&b, SH_LC_LOAD_DYLINKER, "/usr/lib/dyld");
    mb_lc_str(&b, SH_LC_SUB_FRAMEWORK, "Umbrella");
    const uint8_t source_version[8] = {0};
    mb_raw_cmd(&b, SH_LC_SOURCE_VERSION, 16, source_version, sizeof source_version);
    mb_symtab(&b, 0x20c0, 0, 0x20c0, 0x10);
    mb_end_commands(&b);
    mb_pad_to(&b, 0x3000);
    return mb_finish(&b, len);
}

static void every_typed_command_is_decoded(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = kitchen_sink(&len);
    sh_macho_file f;
    assert_parse_ok(data, len, &f);
    const sh_macho_slice *s = &f.slices[0];
    assert_int_equal(s->filetype, SH_MH_DYLIB);
    assert_string_equal(sh_macho_cpu_name(s->cputype, s->cpusubtype), "arm64e");

    assert_int_equal(s->nsegments, 3);
    assert_int_equal(s->nsections, 4);
    assert_int_equal(s->segments[1].first_section, 1);
    assert_int_equal(s->segments[1].nsects, 3);
    assert_string_equal(s->sections[2].sectname, "__bss");
    assert_int_equal(s->sections[2].size, 0x2000);
    assert_int_equal(s->sections[3].flags, SH_S_THREAD_LOCAL_ZEROFILL);
    assert_int_equal(s->sections[3].segment_index, 1);
    assert_int_equal(s->text_segment, 0);
    assert_int_equal(s->linkedit_segment, 2);

    const sh_macho_linkedit_data *slots[] = {
        &s->chained_fixups, &s->exports_trie, &s->function_starts, &s->data_in_code,
        &s->split_info, &s->dylib_code_sign_drs, &s->linker_optimization_hint, &s->atom_info,
        &s->function_variants, &s->function_variant_fixups, &s->code_signature,
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        assert_true(slots[i]->present);
        assert_int_equal(slots[i]->dataoff, linkedit_cmds[i].off);
        assert_int_equal(slots[i]->datasize, linkedit_cmds[i].size);
        assert_int_equal(slots[i]->command_index, 3 + i);
        assert_int_equal(s->commands[slots[i]->command_index].cmd, linkedit_cmds[i].cmd);
    }

    assert_true(s->has_uuid);
    assert_memory_equal(s->uuid, mb_std_uuid, 16);
    assert_true(s->has_build_version);
    assert_int_equal(s->platform, SH_PLATFORM_IOS);
    assert_int_equal(s->minos, 0x000e0500);
    assert_int_equal(s->sdk, 0x00110000);
    assert_int_equal(s->ntools, 2);
    assert_int_equal(s->tools[0].tool, SH_TOOL_CLANG);
    assert_int_equal(s->tools[1].tool, SH_TOOL_LD);
    assert_int_equal(s->tools[1].version, 0x03ba0000);
    assert_true(s->has_version_min);
    assert_int_equal(s->version_min_cmd, SH_LC_VERSION_MIN_MACOSX);
    assert_int_equal(s->version_min_version, 0x000a0f00);
    assert_int_equal(s->version_min_sdk, 0x000b0000);
    assert_true(s->has_main);
    assert_int_equal(s->entryoff, 0x400);
    assert_int_equal(s->stacksize, 0x10000);

    assert_int_equal(s->ndylibs, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(s->dylibs[i].cmd, dylib_cmds[i]);
        assert_string_equal(s->dylibs[i].name, dylib_names[i]);
        assert_int_equal(s->dylibs[i].name_len, strlen(dylib_names[i]));
        assert_int_equal(s->dylibs[i].current_version, 0x00010203 + (uint32_t)i);
        assert_int_equal(s->dylibs[i].compatibility_version, 0x00010000);
    }

    assert_true(s->has_encryption_info);
    assert_int_equal(s->encryption_info_cmd, SH_LC_ENCRYPTION_INFO_64);
    assert_int_equal(s->cryptoff, 0x400);
    assert_int_equal(s->cryptsize, 0xc00);
    assert_int_equal(s->cryptid, 1);
    assert_true(s->has_dyld_info);
    assert_int_equal(s->dyld_info_cmd, SH_LC_DYLD_INFO_ONLY);
    const uint32_t got[10] = {s->rebase_off, s->rebase_size, s->bind_off, s->bind_size,
                              s->weak_bind_off, s->weak_bind_size, s->lazy_bind_off,
                              s->lazy_bind_size, s->export_off, s->export_size};
    assert_memory_equal(got, dyld_info_values, sizeof got);

    bool saw_rpath = false, saw_dylinker = false, saw_sub = false, saw_source = false;
    for (uint32_t i = 0; i < s->ncmds; i++) {
        const sh_macho_load_command *lc = &s->commands[i];
        if (lc->cmd == SH_LC_RPATH) {
            assert_string_equal(lc->str, "@executable_path/../Frameworks");
            saw_rpath = true;
        } else if (lc->cmd == SH_LC_LOAD_DYLINKER) {
            assert_string_equal(lc->str, "/usr/lib/dyld");
            assert_int_equal(lc->str_len, 13);
            saw_dylinker = true;
        } else if (lc->cmd == SH_LC_SUB_FRAMEWORK) {
            assert_string_equal(lc->str, "Umbrella");
            saw_sub = true;
        } else if (lc->cmd == SH_LC_SOURCE_VERSION) {
            assert_int_equal(lc->cmdsize, 16);
            assert_null(lc->str);
            saw_source = true;
        }
    }
    assert_true(saw_rpath && saw_dylinker && saw_sub && saw_source);
    assert_true(s->has_symtab);

    sh_error err;
    assert_int_equal(sh_macho_check_structure(&f, &err), SH_E_OK);
    sh_macho_free(&f);
    free(data);
}

/* All four LC_VERSION_MIN_* are decoded the same way. */
static void every_version_min_kind(void **state)
{
    (void)state;
    const uint32_t kinds[4] = {SH_LC_VERSION_MIN_MACOSX, SH_LC_VERSION_MIN_IPHONEOS,
                               SH_LC_VERSION_MIN_TVOS, SH_LC_VERSION_MIN_WATCHOS};
    for (int i = 0; i < 4; i++) {
        mb b;
        mb_begin(&b, false, i % 2 == 1, SH_CPU_TYPE_ARM, SH_CPU_SUBTYPE_ARM_V7K, SH_MH_EXECUTE);
        mb_version_min(&b, kinds[i], 0x00060000 + (uint32_t)i, 0x00080100);
        mb_end_commands(&b);
        size_t len;
        uint8_t *data = mb_finish(&b, &len);
        sh_macho_file f;
        assert_parse_ok(data, len, &f);
        assert_true(f.slices[0].has_version_min);
        assert_int_equal(f.slices[0].version_min_cmd, kinds[i]);
        assert_int_equal(f.slices[0].version_min_version, 0x00060000 + (uint32_t)i);
        assert_int_equal(f.slices[0].version_min_sdk, 0x00080100);
        sh_macho_free(&f);
        free(data);
    }
}

/* 32-bit: LC_ENCRYPTION_INFO and LC_DYLD_INFO (not _ONLY), in big-endian. */
static void thirty_two_bit_encryption_and_dyld_info(void **state)
{
    (void)state;
    mb b;
    mb_begin(&b, false, true, SH_CPU_TYPE_ARM, SH_CPU_SUBTYPE_ARM_V7S, SH_MH_EXECUTE);
    mb_encryption_info(&b, false, 0x100, 0x200, 0);
    mb_dyld_info(&b, SH_LC_DYLD_INFO, dyld_info_values);
    mb_end_commands(&b);
    mb_pad_to(&b, 0x2200);
    size_t len;
    uint8_t *data = mb_finish(&b, &len);
    sh_macho_file f;
    assert_parse_ok(data, len, &f);
    const sh_macho_slice *s = &f.slices[0];
    assert_string_equal(sh_macho_cpu_name(s->cputype, s->cpusubtype), "armv7s");
    assert_int_equal(s->encryption_info_cmd, SH_LC_ENCRYPTION_INFO);
    assert_int_equal(s->cryptoff, 0x100);
    assert_int_equal(s->cryptsize, 0x200);
    assert_int_equal(s->dyld_info_cmd, SH_LC_DYLD_INFO);
    assert_int_equal(s->export_off, 0x2138);
    assert_int_equal(s->commands[0].cmdsize, 20);
    sh_macho_free(&f);
    free(data);
}

/* Zippered binaries carry LC_BUILD_VERSION for macOS and Mac Catalyst: accepted, the first
 * kept.  A second one for the same platform is a duplicate. */
static void zippered_build_versions(void **state)
{
    (void)state;
    const uint32_t tools[2] = {SH_TOOL_LD, 0x03ba0000};
    for (int same = 0; same < 2; same++) {
        mb b;
        mb_std_begin(&b, true, false, SH_CPU_TYPE_X86_64, 3, NULL);
        mb_build_version(&b, same ? SH_PLATFORM_MACOS : SH_PLATFORM_MACCATALYST, 0x000d0100,
                         0x000e0000, 1, tools);
        size_t len;
        uint8_t *data = mb_std_end(&b, &len);
        sh_macho_file f;
        sh_error err;
        if (same) {
            assert_int_equal(parse(data, len, &f, &err), SH_E_MACHO_DUPLICATE_COMMAND);
            assert_string_equal(err.where, "LC_BUILD_VERSION");
            assert_int_equal(err.index, MB_STD_NCMDS);
        } else {
            assert_parse_ok(data, len, &f);
            assert_int_equal(f.slices[0].build_version_count, 2);
            assert_int_equal(f.slices[0].platform, SH_PLATFORM_MACOS);
            assert_int_equal(f.slices[0].minos, 0x000b0000);
        }
        sh_macho_free(&f);
        free(data);
    }
}

/* ---- structure rules -------------------------------------------------------------------------- */

static void expect_structure(const uint8_t *data, size_t len, sh_err expected, const char *where,
                             int64_t index)
{
    sh_macho_file f;
    sh_error err;
    assert_parse_ok(data, len, &f);
    memset(&err, 0, sizeof err);
    sh_err e = sh_macho_check_structure(&f, &err);
    if (e != expected)
        print_error("expected %s, got %s\n", sh_err_name(expected), sh_err_name(e));
    assert_int_equal(e, expected);
    if (where)
        assert_string_equal(err.where, where);
    if (expected != SH_E_OK)
        assert_int_equal(err.index, index);
    sh_macho_free(&f);
}

static void overlapping_segments(void **state)
{
    (void)state;
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, NULL);
    mb_segment(&b, "__DATA", 0x100002000, 0x1000, 0x800, 0x100, 0, NULL); /* inside __TEXT */
    size_t len;
    uint8_t *data = mb_std_end(&b, &len);
    expect_structure(data, len, SH_E_MACHO_SEGMENT_OVERLAP, "segment", MB_STD_NCMDS);
    free(data);
}

static void data_after_linkedit(void **state)
{
    (void)state;
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, NULL);
    mb_end_commands(&b);
    mb_std_data(&b);
    mb_fill(&b, 16, 0);
    size_t len;
    uint8_t *data = mb_finish(&b, &len);
    expect_structure(data, len, SH_E_MACHO_LINKEDIT_NOT_LAST, "segment", 2);
    free(data);
}

static void signature_not_at_end_or_outside_linkedit(void **state)
{
    (void)state;
    mb_std o;
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, &o);
    mb_put_u32(&b, o.code_signature + 12, MB_STD_SIG_SIZE - 16); /* 16 bytes follow it */
    size_t len;
    uint8_t *data = mb_std_end(&b, &len);
    expect_structure(data, len, SH_E_MACHO_SIGNATURE_NOT_AT_END, "LC_CODE_SIGNATURE", 8);
    free(data);

    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, &o);
    mb_put_u32(&b, o.code_signature + 8, 0xf00); /* starts inside __TEXT, ends with __LINKEDIT */
    mb_put_u32(&b, o.code_signature + 12, 0x300);
    data = mb_std_end(&b, &len);
    expect_structure(data, len, SH_E_MACHO_SIGNATURE_OUTSIDE_LINKEDIT, "LC_CODE_SIGNATURE", 8);
    free(data);
}

static void signature_without_linkedit(void **state)
{
    (void)state;
    mb_std o;
    mb b;
    mb_std_begin(&b, true, false, SH_CPU_TYPE_ARM64, 0, &o);
    b.data[o.linkedit + 8 + 8] = 'X'; /* segname __LINKEDIT -> __LINKEDXT */
    /* With no __LINKEDIT, LC_SYMTAB decides where the slice must end: make it end there. */
    mb_put_u32(&b, o.symtab + 20, MB_STD_FILE_SIZE - MB_STD_STROFF);
    size_t len;
    uint8_t *data = mb_std_end(&b, &len);
    expect_structure(data, len, SH_E_MACHO_NO_LINKEDIT, "LC_CODE_SIGNATURE", 8);
    free(data);
}

/* Security's validateStructure: LC_SYMTAB before any __LINKEDIT (old PPC layout) decides. */
static void symtab_first_must_end_the_slice(void **state)
{
    (void)state;
    for (int ends = 0; ends < 2; ends++) {
        mb b;
        mb_begin(&b, false, true, SH_CPU_TYPE_POWERPC, 0, SH_MH_EXECUTE);
        mb_symtab(&b, 0x800, 1, 0x80c, ends ? 0x1f4 : 0x10);
        mb_segment(&b, "__TEXT", 0, 0x1000, 0, 0x800, 0, NULL);
        mb_end_commands(&b);
        mb_pad_to(&b, 0xa00);
        size_t len;
        uint8_t *data = mb_finish(&b, &len);
        if (ends)
            expect_structure(data, len, SH_E_OK, NULL, 0);
        else
            expect_structure(data, len, SH_E_MACHO_LINKEDIT_NOT_LAST, "LC_SYMTAB", 0);
        free(data);
    }
}

/* Two std slices at chosen offsets and alignments. */
static uint8_t *fat_at(uint64_t off1, uint32_t align1, int32_t cpu1, size_t trailing, size_t *len)
{
    size_t l0, l1;
    uint8_t *a = mb_std_file(true, false, SH_CPU_TYPE_X86_64, 3, &l0, NULL);
    const int32_t sub1 = cpu1 == SH_CPU_TYPE_X86_64 ? 3 : 0;
    uint8_t *b = mb_std_file(true, false, cpu1, sub1, &l1, NULL);
    const mb_fat_slice slices[2] = {
        {a, l0, SH_CPU_TYPE_X86_64, 3, 12, 0x1000, 0},
        {b, l1, cpu1, sub1, align1, off1, 0},
    };
    uint8_t *fat = mb_fat(false, slices, 2, trailing, len);
    free(a);
    free(b);
    return fat;
}

static void fat_layout_rules(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = fat_at(0x3000, 12, SH_CPU_TYPE_ARM64, 0, &len); /* gap 0xe00 < 0x1000 */
    expect_structure(data, len, SH_E_OK, NULL, 0);
    free(data);
    data = fat_at(0x4000, 12, SH_CPU_TYPE_ARM64, 0, &len); /* gap 0x1e00 >= 0x1000 */
    expect_structure(data, len, SH_E_FAT_GAP, "fat_arch", 1);
    free(data);
    data = fat_at(0x3010, 12, SH_CPU_TYPE_ARM64, 0, &len);
    expect_structure(data, len, SH_E_FAT_SLICE_MISALIGNED, "fat_arch", 1);
    free(data);
    data = fat_at(0x2000, 12, SH_CPU_TYPE_ARM64, 0, &len); /* slice 0 ends at 0x2200 */
    expect_structure(data, len, SH_E_FAT_SLICE_OVERLAP, "fat_arch", 1);
    free(data);
    data = fat_at(0x10000, 16, SH_CPU_TYPE_ARM64, 0, &len);
    expect_structure(data, len, SH_E_FAT_ALIGN_TOO_LARGE, "fat_arch", 1);
    free(data);
    data = fat_at(0x3000, 12, SH_CPU_TYPE_ARM64, 16, &len); /* bytes after the last slice */
    expect_structure(data, len, SH_E_FAT_GAP, "fat file", -1);
    free(data);
    data = fat_at(0x3000, 12, SH_CPU_TYPE_X86_64, 0, &len);
    expect_structure(data, len, SH_E_FAT_DUPLICATE_ARCH, "fat_arch", 1);
    free(data);
    data = fat_at(0x3000, 12, SH_CPU_TYPE_ARM64, 0, &len);
    data[0x100] = 1; /* padding between the fat header and the first slice */
    expect_structure(data, len, SH_E_FAT_PADDING_NOT_ZERO, "fat_arch", 0);
    free(data);
}

/* ---- names ------------------------------------------------------------------------------------ */

static void cpu_names(void **state)
{
    (void)state;
    static const struct {
        int32_t type, sub;
        const char *name;
    } cases[] = {
        {SH_CPU_TYPE_X86_64, 3, "x86_64"},
        {SH_CPU_TYPE_X86_64, (int32_t)0x80000003, "x86_64"},
        {SH_CPU_TYPE_X86_64, 8, "x86_64h"},
        {SH_CPU_TYPE_X86, 3, "i386"},
        {SH_CPU_TYPE_ARM64, 0, "arm64"},
        {SH_CPU_TYPE_ARM64, 2, "arm64e"},
        {SH_CPU_TYPE_ARM64, (int32_t)0x80000002, "arm64e"},
        {SH_CPU_TYPE_ARM64_32, 1, "arm64_32"},
        {SH_CPU_TYPE_ARM, 9, "armv7"},
        {SH_CPU_TYPE_ARM, 11, "armv7s"},
        {SH_CPU_TYPE_ARM, 12, "armv7k"},
        {SH_CPU_TYPE_ARM, 6, "armv6"},
        {SH_CPU_TYPE_POWERPC, 0, "ppc"},
        {SH_CPU_TYPE_POWERPC64, 0, "ppc64"},
        {99, 0, "unknown"},
        {SH_CPU_TYPE_ARM64, 7, "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sh_macho_cpu_name(cases[i].type, cases[i].sub), cases[i].name);
    char buf[64];
    assert_string_equal(sh_macho_cpu_name_buf(99, 5, buf, sizeof buf), "cputype 0x63 subtype 0x5");
    assert_string_equal(sh_macho_cpu_name_buf(SH_CPU_TYPE_ARM64, 2, buf, sizeof buf), "arm64e");
    char tiny[8];
    assert_string_equal(sh_macho_cpu_name_buf(99, 5, tiny, sizeof tiny), "cputype");
    assert_string_equal(sh_macho_cpu_name_buf(99, 5, NULL, 0), "unknown");
}

static void load_command_names(void **state)
{
    (void)state;
    static const struct {
        uint32_t cmd;
        const char *name;
    } cases[] = {
        {0x1, "LC_SEGMENT"}, {0x2, "LC_SYMTAB"}, {0x3, "LC_SYMSEG"}, {0x4, "LC_THREAD"},
        {0x5, "LC_UNIXTHREAD"}, {0x6, "LC_LOADFVMLIB"}, {0x7, "LC_IDFVMLIB"}, {0x8, "LC_IDENT"},
        {0x9, "LC_FVMFILE"}, {0xa, "LC_PREPAGE"}, {0xb, "LC_DYSYMTAB"}, {0xc, "LC_LOAD_DYLIB"},
        {0xd, "LC_ID_DYLIB"}, {0xe, "LC_LOAD_DYLINKER"}, {0xf, "LC_ID_DYLINKER"},
        {0x10, "LC_PREBOUND_DYLIB"}, {0x11, "LC_ROUTINES"}, {0x12, "LC_SUB_FRAMEWORK"},
        {0x13, "LC_SUB_UMBRELLA"}, {0x14, "LC_SUB_CLIENT"}, {0x15, "LC_SUB_LIBRARY"},
        {0x16, "LC_TWOLEVEL_HINTS"}, {0x17, "LC_PREBIND_CKSUM"}, {0x80000018, "LC_LOAD_WEAK_DYLIB"},
        {0x19, "LC_SEGMENT_64"}, {0x1a, "LC_ROUTINES_64"}, {0x1b, "LC_UUID"},
        {0x8000001c, "LC_RPATH"}, {0x1d, "LC_CODE_SIGNATURE"}, {0x1e, "LC_SEGMENT_SPLIT_INFO"},
        {0x8000001f, "LC_REEXPORT_DYLIB"}, {0x20, "LC_LAZY_LOAD_DYLIB"},
        {0x21, "LC_ENCRYPTION_INFO"}, {0x22, "LC_DYLD_INFO"}, {0x80000022, "LC_DYLD_INFO_ONLY"},
        {0x80000023, "LC_LOAD_UPWARD_DYLIB"}, {0x24, "LC_VERSION_MIN_MACOSX"},
        {0x25, "LC_VERSION_MIN_IPHONEOS"}, {0x26, "LC_FUNCTION_STARTS"},
        {0x27, "LC_DYLD_ENVIRONMENT"}, {0x80000028, "LC_MAIN"}, {0x29, "LC_DATA_IN_CODE"},
        {0x2a, "LC_SOURCE_VERSION"}, {0x2b, "LC_DYLIB_CODE_SIGN_DRS"},
        {0x2c, "LC_ENCRYPTION_INFO_64"}, {0x2d, "LC_LINKER_OPTION"},
        {0x2e, "LC_LINKER_OPTIMIZATION_HINT"}, {0x2f, "LC_VERSION_MIN_TVOS"},
        {0x30, "LC_VERSION_MIN_WATCHOS"}, {0x31, "LC_NOTE"}, {0x32, "LC_BUILD_VERSION"},
        {0x80000033, "LC_DYLD_EXPORTS_TRIE"}, {0x80000034, "LC_DYLD_CHAINED_FIXUPS"},
        {0x80000035, "LC_FILESET_ENTRY"}, {0x36, "LC_ATOM_INFO"}, {0x37, "LC_FUNCTION_VARIANTS"},
        {0x38, "LC_FUNCTION_VARIANT_FIXUPS"}, {0x39, "LC_TARGET_TRIPLE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *name = sh_macho_load_command_name(cases[i].cmd);
        assert_non_null(name);
        assert_string_equal(name, cases[i].name);
    }
    assert_null(sh_macho_load_command_name(0));
    assert_null(sh_macho_load_command_name(0x3a));
    assert_null(sh_macho_load_command_name(0x18)); /* LC_LOAD_WEAK_DYLIB needs LC_REQ_DYLD */
    assert_null(sh_macho_load_command_name(0xffffffff));
}

static void filetype_platform_and_tool_names(void **state)
{
    (void)state;
    assert_string_equal(sh_macho_filetype_name(1), "MH_OBJECT");
    assert_string_equal(sh_macho_filetype_name(2), "MH_EXECUTE");
    assert_string_equal(sh_macho_filetype_name(6), "MH_DYLIB");
    assert_string_equal(sh_macho_filetype_name(8), "MH_BUNDLE");
    assert_string_equal(sh_macho_filetype_name(0xa), "MH_DSYM");
    assert_string_equal(sh_macho_filetype_name(0xb), "MH_KEXT_BUNDLE");
    assert_string_equal(sh_macho_filetype_name(0xc), "MH_FILESET");
    assert_string_equal(sh_macho_filetype_name(0), "unknown");
    assert_string_equal(sh_macho_filetype_name(0x1000), "unknown");
    assert_string_equal(sh_macho_platform_name(1), "macos");
    assert_string_equal(sh_macho_platform_name(2), "ios");
    assert_string_equal(sh_macho_platform_name(3), "tvos");
    assert_string_equal(sh_macho_platform_name(4), "watchos");
    assert_string_equal(sh_macho_platform_name(6), "macCatalyst");
    assert_string_equal(sh_macho_platform_name(7), "iossim");
    assert_string_equal(sh_macho_platform_name(10), "driverkit");
    assert_string_equal(sh_macho_platform_name(0), "unknown");
    assert_string_equal(sh_macho_platform_name(0xffffffff), "unknown");
    assert_string_equal(sh_macho_tool_name(1), "clang");
    assert_string_equal(sh_macho_tool_name(2), "swift");
    assert_string_equal(sh_macho_tool_name(3), "ld");
    assert_string_equal(sh_macho_tool_name(77), "unknown");
}

/* ---- allocation failure ----------------------------------------------------------------------- */

typedef struct counting_allocator {
    int fail_at, calls, live;
} counting_allocator;

static void *counting_alloc(void *ctx, size_t size)
{
    counting_allocator *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    c->live++;
    return malloc(size);
}

static void counting_release(void *ctx, void *p)
{
    counting_allocator *c = ctx;
    c->live--;
    free(p);
}

/* Fails the k-th allocation for every k until parsing succeeds: each failure is NO_MEMORY, leaves
 * the file empty and nothing allocated. */
static void check_allocation_failures(const uint8_t *data, size_t len)
{
    int failures = 0;
    for (int k = 0;; k++) {
        counting_allocator c = {k, 0, 0};
        const sh_allocator a = {counting_alloc, counting_release, &c};
        sh_macho_file f;
        sh_error err;
        sh_err e = sh_macho_parse(data, len, &a, &f, &err);
        if (e == SH_E_OK) {
            assert_true(c.live > 0);
            sh_macho_free(&f);
            assert_int_equal(c.live, 0);
            break;
        }
        assert_int_equal(e, SH_E_NO_MEMORY);
        assert_int_equal(c.live, 0);
        assert_null(f.slices);
        assert_int_equal(f.nslices, 0);
        sh_macho_free(&f);
        failures++;
        assert_true(k < 100);
    }
    assert_true(failures >= 3);
}

static void allocation_failures_free_everything(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = kitchen_sink(&len);
    check_allocation_failures(data, len);
    free(data);
    data = std_fat(false, 0, &len);
    check_allocation_failures(data, len);
    free(data);
}

/* ---- external real-world samples -------------------------------------------------------------- */

typedef struct sample_expectation {
    const char *file;
    sh_err parse;
    uint32_t nslices;
    const char *archs[2];
} sample_expectation;

static const sample_expectation samples[] = {
    {"sparkle_DevSignedApp_SignedApp", SH_E_OK, 1, {"arm64", NULL}},
    {"appinfo_GuiApp_universal", SH_E_OK, 2, {"x86_64", "arm64"}},
    {"santa_cert_hash_allowed_signingid_blocked_universal", SH_E_OK, 2, {"x86_64", "arm64"}},
    {"santa_allowed_cdhash_linker_signed", SH_E_OK, 1, {"arm64", NULL}},
    {"isign_isignTestApp_armv7_arm64", SH_E_OK, 2, {"armv7", "arm64"}},
    {"runloop_CalSmoke-cal_armv7_arm64_sha1cms", SH_E_OK, 2, {"armv7", "arm64"}},
    {"runloop_CalSmoke_sim_i386_x86_64_adhoc", SH_E_OK, 2, {"i386", "x86_64"}},
    {"fastlane_very_capable_app_selfsigned", SH_E_OK, 1, {"arm64", NULL}},
    {"zsign_demo1_no_cms.dylib", SH_E_OK, 1, {"arm64", NULL}},
    /* isign's signature stripper left the armv7 __LINKEDIT 8 bytes past the end of its slice
     * (llvm-objdump rejects it the same way). */
    {"isign_isignTestApp_unsigned_fat", SH_E_MACHO_SEGMENT_OUT_OF_FILE, 0, {NULL, NULL}},
    {"sparkle_DevSignedApp_Info.plist", SH_E_NOT_MACHO, 0, {NULL, NULL}},
    {"sparkle_DevSignedApp_CodeResources", SH_E_NOT_MACHO, 0, {NULL, NULL}},
};

static const char *external_macho_dir(char *buf, size_t size)
{
    const char *shared = getenv("SH_SHARED_DIR");
    const char *source = getenv("SH_SOURCE_DIR");
    if (shared && *shared)
        snprintf(buf, size, "%s/external-samples/macho", shared);
    else if (source && *source)
        snprintf(buf, size, "%s/../shared/external-samples/macho", source);
    else
        snprintf(buf, size, "../shared/external-samples/macho");
    return buf;
}

static void check_signed_sample(const sample_expectation *x, const sh_macho_file *f)
{
    assert_int_equal(f->nslices, x->nslices);
    assert_int_equal(f->fat, x->nslices > 1);
    sh_error err;
    sh_err e = sh_macho_check_structure(f, &err);
    if (e != SH_E_OK)
        print_error("%s: structure: %s\n", x->file, sh_err_name(e));
    assert_int_equal(e, SH_E_OK);
    for (uint32_t i = 0; i < f->nslices; i++) {
        const sh_macho_slice *s = &f->slices[i];
        assert_string_equal(sh_macho_cpu_name(s->cputype, s->cpusubtype), x->archs[i]);
        assert_true(s->has_uuid);
        assert_true(s->text_segment >= 0);
        assert_true(s->linkedit_segment >= 0);
        sh_cursor sig;
        assert_int_equal(sh_macho_signature(s, &sig, &err), SH_E_OK);
        uint32_t magic;
        assert_true(sh_cursor_u32be_at(&sig, 0, &magic));
        assert_int_equal(magic, 0xfade0cc0); /* embedded signature SuperBlob */
    }
}

/* A few facts from MANIFEST.md beyond the architectures. */
static void check_sample_details(const char *name, const sh_macho_file *f)
{
    const sh_macho_slice *s = &f->slices[0];
    if (strcmp(name, "isign_isignTestApp_armv7_arm64") == 0) {
        assert_int_equal(s->magic, SH_MH_MAGIC);
        assert_false(s->is64);
        assert_true(f->slices[1].is64);
    } else if (strcmp(name, "runloop_CalSmoke-cal_armv7_arm64_sha1cms") == 0) {
        assert_int_equal(s->version_min_cmd, SH_LC_VERSION_MIN_IPHONEOS);
        assert_int_equal(s->version_min_version, 0x00060000);
        assert_int_equal(s->version_min_sdk, 0x00080100);
        assert_true(s->dylib_code_sign_drs.present);
    } else if (strcmp(name, "santa_allowed_cdhash_linker_signed") == 0) {
        assert_true(s->chained_fixups.present);
        assert_true(s->exports_trie.present);
        assert_false(s->has_dyld_info);
    } else if (strcmp(name, "zsign_demo1_no_cms.dylib") == 0) {
        assert_int_equal(s->filetype, SH_MH_DYLIB);
        assert_int_equal(s->dylibs[0].cmd, SH_LC_ID_DYLIB);
        assert_true(s->has_encryption_info);
    } else if (strcmp(name, "fastlane_very_capable_app_selfsigned") == 0) {
        assert_int_equal(s->encryption_info_cmd, SH_LC_ENCRYPTION_INFO_64);
    } else if (strcmp(name, "runloop_CalSmoke_sim_i386_x86_64_adhoc") == 0) {
        assert_int_equal(s->fat_align, 12);
        assert_int_equal(f->slices[1].fat_align, 12);
    }
}

static void external_samples(void **state)
{
    (void)state;
    char dir[1024];
    external_macho_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d)
        print_error("cannot open %s\n", dir);
    assert_non_null(d);
    bool seen[sizeof samples / sizeof samples[0]] = {false};
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        size_t len;
        uint8_t *data = read_file(path, &len);
        assert_non_null(data);
        sh_macho_file f;
        sh_error err;
        sh_err e = parse(data, len, &f, &err);
        const sample_expectation *x = NULL;
        for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
            if (strcmp(samples[i].file, ent->d_name) == 0) {
                x = &samples[i];
                seen[i] = true;
            }
        if (!x) {
            print_message("note: no expectation for %s (%s); parsed without crashing\n",
                          ent->d_name, sh_err_name(e));
        } else {
            if (e != x->parse)
                print_error("%s: expected %s, got %s\n", x->file, sh_err_name(x->parse),
                            sh_err_name(e));
            assert_int_equal(e, x->parse);
            if (e == SH_E_OK) {
                check_signed_sample(x, &f);
                check_sample_details(x->file, &f);
            } else if (e == SH_E_MACHO_SEGMENT_OUT_OF_FILE) {
                assert_string_equal(err.where, "segment");
                assert_int_equal(err.index, 3); /* armv7 __LINKEDIT */
            }
        }
        sh_macho_free(&f);
        free(data);
    }
    closedir(d);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        if (!seen[i])
            print_error("sample missing: %s/%s\n", dir, samples[i].file);
        assert_true(seen[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thin_64_little_endian),
        cmocka_unit_test(thin_64_big_endian_is_cigam),
        cmocka_unit_test(thin_32_little_endian),
        cmocka_unit_test(thin_32_big_endian_is_cigam),
        cmocka_unit_test(fat_with_two_slices),
        cmocka_unit_test(fat_magic_64),
        cmocka_unit_test(fat_hidden_arm64_slice_is_counted),
        cmocka_unit_test(errors_in_a_slice_use_file_offsets),
        cmocka_unit_test(java_class_and_byte_swapped_fat_are_refused),
        cmocka_unit_test(every_typed_command_is_decoded),
        cmocka_unit_test(every_version_min_kind),
        cmocka_unit_test(thirty_two_bit_encryption_and_dyld_info),
        cmocka_unit_test(zippered_build_versions),
        cmocka_unit_test(overlapping_segments),
        cmocka_unit_test(data_after_linkedit),
        cmocka_unit_test(signature_not_at_end_or_outside_linkedit),
        cmocka_unit_test(signature_without_linkedit),
        cmocka_unit_test(symtab_first_must_end_the_slice),
        cmocka_unit_test(fat_layout_rules),
        cmocka_unit_test(cpu_names),
        cmocka_unit_test(load_command_names),
        cmocka_unit_test(filetype_platform_and_tool_names),
        cmocka_unit_test(allocation_failures_free_everything),
        cmocka_unit_test(external_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
