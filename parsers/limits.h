/* Every limit the parsers enforce, in one place.  A value past a limit is an error, never a
 * truncation. */
#ifndef SH_LIMITS_H
#define SH_LIMITS_H

#define SH_MAX_INPUT_SIZE ((size_t)1 << 31)   /* 2 GiB: largest file read or parsed */
#define SH_MAX_FAT_ARCHS 64u                  /* fat_arch entries in one fat header */
#define SH_MAX_FAT_ALIGN 15u                  /* log2; Security's MAX_ALIGN (32 KiB) */
#define SH_MAX_LOAD_COMMANDS 8192u            /* ncmds per slice */
#define SH_MAX_SECTIONS 65536u                /* sections over all segments of a slice */
#define SH_MAX_DYLIBS 4096u                   /* LC_*_DYLIB commands per slice */
#define SH_MAX_BUILD_TOOLS 64u                /* LC_BUILD_VERSION ntools */
#define SH_MAX_SUPERBLOB_BLOBS 64u            /* BlobIndex entries in one SuperBlob */
#define SH_MAX_ALTERNATE_CDS 5u               /* slots 0x1000..0x1004 */
#define SH_MAX_SPECIAL_SLOTS 64u              /* CodeDirectory nSpecialSlots */
#define SH_MAX_PAGE_SHIFT 24u                 /* CodeDirectory pageSize (log2): 16 MiB pages */
#define SH_MAX_SCATTER_ENTRIES 4096u          /* scatter vector entries before the terminator */
#define SH_MAX_IDENTIFIER_LEN 4096u           /* CodeDirectory identifier, team ID, dylib paths */

#endif
