/* Helpers shared by the Mach-O parser's source files; not part of the public API. */
#ifndef SH_MACHO_INTERNAL_H
#define SH_MACHO_INTERNAL_H

#include <stdint.h>

#include "macho.h"

/* Absolute file offset of load command `index` of slice s. */
uint64_t sh_macho_command_position(const sh_macho_slice *s, uint32_t index);
/* Absolute file offset of fat_arch entry `index`. */
uint64_t sh_macho_fat_arch_position(const sh_macho_file *f, uint32_t index);

#endif
