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
#define SH_FAT_JAVA_MIN_NFAT_ARCH 45u         /* 0xcafebabe + nfat_arch >= 45 is a Java class file:
                                               those bytes are its major version, 45 = JDK 1.0.2 */
#define SH_MAX_LC_STRING_LEN SH_MAX_IDENTIFIER_LEN /* dylib, rpath, dylinker paths in load commands */
#define SH_MAX_SUPERBLOB_BLOBS 64u            /* BlobIndex entries in one SuperBlob */
#define SH_MAX_ALTERNATE_CDS 5u               /* slots 0x1000..0x1004 */
#define SH_MAX_SPECIAL_SLOTS 64u              /* CodeDirectory nSpecialSlots */
#define SH_MAX_PAGE_SHIFT 24u                 /* CodeDirectory pageSize (log2): 16 MiB pages */
#define SH_MAX_SCATTER_ENTRIES 4096u          /* scatter vector entries before the terminator */
#define SH_MAX_IDENTIFIER_LEN 4096u           /* CodeDirectory identifier, team ID, dylib paths */

/* Property lists (plist_guard) and entitlements. */
#define SH_MAX_PLIST_SIZE ((size_t)32 << 20)  /* 32 MiB: largest plist handed to libplist */
#define SH_MAX_PLIST_DEPTH 64u                /* dict/array nesting, the root container is 1 */
#define SH_MAX_PLIST_NODES (1u << 20)         /* XML elements; binary objects per reference */
#define SH_MAX_PLIST_EXPANDED ((size_t)64 << 20) /* bytes a binary plist expands to (shared objects
                                               count once per reference) */
#define SH_MAX_PLIST_KEY_WORK (1u << 28)      /* key bytes libplist's dict inserts would compare */
#define SH_MAX_DER_DEPTH 32u                  /* DER entitlements dict/array nesting */
#define SH_MAX_DER_ITEMS 65536u               /* DER entitlements values, the root dict included */

/* Code requirements (requirement.c, reqcompile.c) */
#define SH_MAX_REQUIREMENT_DEPTH 999u         /* expression nesting levels, top level = 1: Security's
                                               interpreter starts at stackLimit 1000 and fails when
                                               --depth reaches 0 (reqinterp.h/.cpp) */
#define SH_MAX_REQUIREMENT_OPS 65536u         /* opcodes in one requirement or set */
#define SH_MAX_REQUIREMENT_SIZE (1u << 20)    /* bytes in one requirement blob or set */
#define SH_MAX_REQUIREMENT_TEXT ((size_t)16 << 20) /* bytes of requirement text in or out */
#define SH_MAX_REQUIREMENT_OID_LEN 64u        /* content bytes of one OID operand */
#define SH_MAX_REQUIREMENT_SET_ENTRIES 64u    /* index entries in one requirement set */

/* CMS signature (cms.c), certificates and chains (cert.c), timestamps (timestamp.c) */
#define SH_MAX_CMS_SIZE ((size_t)1 << 20)     /* 1 MiB: CMS bytes in a BlobWrapper (the real
                                               ones are 2-9 KiB) */
#define SH_MAX_CMS_CERTS 32u                  /* certificates in the SignedData or in a timestamp
                                               token (real: 3) */
#define SH_MAX_CMS_CHAIN_DEPTH 8u             /* intermediates between leaf and anchor (real: 1) */
#define SH_MAX_CMS_CDHASHES 16u               /* CDHashes plist entries / CDHashes2 values (one
                                               per CodeDirectory: at most 6 ever match) */
#define SH_MAX_CMS_ATTRIBUTES 64u             /* signed or unsigned attributes of the signer */
#define SH_MAX_CERT_EXTENSIONS 64u            /* extensions read per certificate */

/* Provisioning profiles (profile*.c) */
#define SH_MAX_PROFILE_SIZE ((size_t)2 << 20) /* 2 MiB: whole .mobileprovision/.provisionprofile
                                               (real ones 7-20 KiB; 600 devices and 100
                                               certificates stay far below) */
#define SH_MAX_PROFILE_DEVICES 4096u          /* ProvisionedDevices (Apple: 100 per device family
                                               and membership year, six families) */
#define SH_MAX_PROFILE_CERTS 256u             /* DeveloperCertificates */
#define SH_MAX_PROFILE_LIST 64u               /* other string arrays: Platform, TeamIdentifier,
                                               ApplicationIdentifierPrefix */
#define SH_MAX_PROFILE_KEYS 256u              /* top-level keys (real: 15-17) */
#define SH_MAX_PROFILE_STRING 4096u           /* bytes of one profile string (UUID, Name, UDID) */

/* Bundle resources: _CodeSignature/CodeResources (coderesources.c) and Info.plist (infoplist.c) */
#define SH_MAX_RES_ENTRIES 262144u            /* entries in files or in files2 (large apps: ~50k) */
#define SH_MAX_RES_RULES 256u                 /* patterns in rules or in rules2 (default v2: 13) */
#define SH_MAX_RES_PATH_LEN 1024u             /* bytes of one resource path (macOS PATH_MAX) */
#define SH_MAX_RES_REGEX_LEN 512u             /* bytes of one rule pattern (Apple's longest: 110) */
#define SH_MAX_RES_RULES_BYTES 8192u          /* pattern bytes in one rules/rules2 set (default v2:
                                               ~330): glibc's regexec costs about pattern bytes x
                                               path bytes, and every resource path is matched
                                               against every rule (worst case ~0.1 s per 1 KiB
                                               path at this limit) */
#define SH_MAX_RES_REGEX_INTERVALS 2u         /* {m,n} intervals per pattern: glibc's regcomp copies
                                               the repeated subexpression once per count, so
                                               nested intervals multiply (none in Apple's rules) */
#define SH_MAX_RES_REGEX_REPEAT 16u           /* largest m or n in an interval */
#define SH_MAX_RES_REQUIREMENT_LEN 65536u     /* bytes of a nested entry's requirement text */
#define SH_MAX_INFO_STRING 16384u             /* bytes of one Info.plist string we read */
#define SH_MAX_INFO_ITEMS 4096u               /* NEProviderClasses / IOKitPersonalities entries */

/* Verdict engine (harness/verdict*.c) and notarised-cdhash lists (harness/notary_list.c) */
#define SH_MAX_NOTARY_LIST_SIZE ((size_t)16 << 20) /* 16 MiB: bytes of a --notarized list file */
#define SH_MAX_NOTARY_CDHASHES 65536u         /* cdhashes in one list (one per line) */
#define SH_MAX_NOTARY_LINE 4096u              /* bytes of one line, comments included */
#define SH_MAX_VERDICT_FINDINGS 1024u         /* findings recorded per verdict (the rest counted) */
#define SH_MAX_VERDICT_LOG_LINES 256u         /* predicted log lines per verdict */
#define SH_MAX_SYSTEM_EXTENSIONS 64u          /* extensions examined in one app */
#define SH_MAX_VERDICT_SEAL_ISSUES 64u        /* resource-seal findings per bundle (the rest counted) */

/* Bundles (bundle.c, bundle_read.c, bundle_pack.c): the whole tree is held in memory. */
#define SH_MAX_BUNDLE_ENTRIES 262144u         /* files + directories + symlinks: the same ceiling as
                                               SH_MAX_RES_ENTRIES, so every bundle we hold can be
                                               sealed (large apps: ~50k) */
#define SH_MAX_BUNDLE_DEPTH 64u               /* path components; the reader keeps one directory
                                               descriptor open per level (real apps: < 20) */
#define SH_MAX_BUNDLE_PATH 1024u              /* bytes of one relative path: macOS PATH_MAX, same as
                                               SH_MAX_RES_PATH_LEN */
#define SH_MAX_BUNDLE_FILE (1ull << 30)       /* 1 GiB: one file held in memory (system-extension
                                               apps are tens of MiB) */
#define SH_MAX_BUNDLE_BYTES (2ull << 30)      /* 2 GiB: all files and symlink targets together
                                               (SH_MAX_INPUT_SIZE: a packed bundle fits one input) */
#define SH_MAX_BUNDLE_SYMLINK_TARGET 1024u    /* bytes of a symlink target: macOS PATH_MAX */
#define SH_MAX_BUNDLE_SYMLINK_HOPS 32u        /* symlinks followed in one resolution: macOS
                                               MAXSYMLINKS (Linux allows 40) */

/* Fixture specs (mutators/fixture_spec.c): user-written text, read like any other input */
#define SH_MAX_FIXTURE_SPEC_SIZE ((size_t)64 << 10) /* 64 KiB: whole spec (base catalogue: 3 KiB) */
#define SH_MAX_FIXTURE_SPEC_LINE 256u         /* bytes of one line without its newline */
#define SH_MAX_FIXTURE_BUNDLES 64u            /* [name] sections (base catalogue: 14) */
#define SH_MAX_FIXTURE_NAME 48u               /* section name, identity, version strings */
#define SH_MAX_FIXTURE_ID 96u                 /* app id, extension id, app group */
#define SH_MAX_FIXTURE_TEXT 160u              /* app name, description */

#endif
