/* Whole Mach-O path: container and load commands, codesign's structure rules, then each slice's
 * embedded signature (SuperBlob, CodeDirectories, special slots, page hashes). */
#include <stdint.h>
#include <stdio.h>

#include "macho.h"
#include "signature.h"

static void exercise_names(const sh_macho_slice *s)
{
    volatile const char *sink;
    sink = sh_macho_cpu_name(s->cputype, s->cpusubtype);
    sink = sh_macho_filetype_name(s->filetype);
    sink = sh_macho_platform_name(s->platform);
    for (uint32_t i = 0; i < s->ncmds; i++)
        sink = sh_macho_load_command_name(s->commands[i].cmd);
    (void)sink;
}

static void exercise_signature(const sh_macho_slice *s)
{
    sh_error err;
    sh_cursor data;
    if (sh_macho_signature(s, &data, &err) != SH_E_OK)
        return;
    sh_signature sig;
    if (sh_signature_parse(&data, &sig, &err) != SH_E_OK)
        return;
    sh_signature_check_special_slots(&sig, &err);
    for (uint32_t i = 0; i < sig.ncds; i++) {
        sh_page_report report;
        sh_codedir_verify_pages(&sig.cds[i], &s->data, &report, &err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_macho_file file;
    sh_error err = {0};
    if (sh_macho_parse(data, size, NULL, &file, &err) == SH_E_OK) {
        sh_macho_check_structure(&file, &err);
        for (uint32_t i = 0; i < file.nslices; i++) {
            exercise_names(&file.slices[i]);
            exercise_signature(&file.slices[i]);
        }
    }
    char msg[512];
    sh_error_format(&err, msg, sizeof msg);
    sh_macho_free(&file);
    return 0;
}
