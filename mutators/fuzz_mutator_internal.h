/* Shared between the fuzz_mutator*.c files: the field table the walkers fill and the value
 * chooser reads. */
#ifndef SH_FUZZ_MUTATOR_INTERNAL_H
#define SH_FUZZ_MUTATOR_INTERNAL_H

#include <plist/plist.h>

#include "bytebuf.h"
#include "cursor.h"
#include "fuzz_mutator.h"
#include "sh_limits.h"

/* What a field means, which decides the values tried. */
typedef enum sh_fm_field_kind {
    SH_FK_COUNT,        /* ncmds, nsects, nfat_arch, nSpecialSlots, nCodeSlots, blob count */
    SH_FK_OFFSET,       /* file, slice or blob offsets */
    SH_FK_SIZE,         /* lengths and sizes */
    SH_FK_MAGIC,        /* blob magic */
    SH_FK_SLOT_TYPE,    /* BlobIndex type */
    SH_FK_CD_VERSION,
    SH_FK_CD_FLAGS,
    SH_FK_HASH_SIZE,
    SH_FK_HASH_TYPE,
    SH_FK_PAGE_SHIFT,
    SH_FK_PLATFORM,     /* CodeDirectory platform byte, LC_BUILD_VERSION platform */
    SH_FK_EXECSEG_FLAGS,
    SH_FK_CPU_TYPE,
    SH_FK_CPU_SUBTYPE,
    SH_FK_FILETYPE,
    SH_FK_MH_FLAGS,
    SH_FK_PROT,
    SH_FK_LOAD_COMMAND, /* cmd id */
    SH_FK_FAT_ALIGN,
    SH_FK_OS_VERSION,   /* xxxx.yy.zz packed */
    SH_FK_HASH_BYTES,   /* a slot hash: width bytes */
    SH_FK_STRING_BYTES, /* identifier / team / lc_str: width bytes including the NUL */
} sh_fm_field_kind;

typedef struct sh_fm_field {
    uint64_t off;        /* absolute offset in the input */
    uint32_t width;      /* 1, 2, 4, 8 for integers; bytes for HASH/STRING */
    bool big_endian;
    sh_fm_field_kind kind;
    const char *what;    /* "cd.nCodeSlots" */
    uint64_t value;      /* current value (integers) */
    uint64_t scope;      /* size of the structure offsets are relative to */
} sh_fm_field;

#define SH_FM_MAX_FIELDS 512u

typedef struct sh_fm_fields {
    sh_fm_field f[SH_FM_MAX_FIELDS];
    size_t n;
} sh_fm_fields;

/* One Mach-O slice as the walkers see it (header read, nothing else validated). */
typedef struct sh_fm_slice {
    sh_cursor data;  /* the slice; data.base is its absolute offset */
    bool is64, big_endian;
    uint32_t ncmds, sizeofcmds;
    uint32_t header_size;
} sh_fm_slice;

/* The slices of a thin (one) or fat file, at most max; *fat says which it was. */
size_t sh_fm_slices(const uint8_t *data, size_t size, sh_fm_slice *out, size_t max, bool *fat);
/* A u32 / u64 at off inside c in the given byte order. */
bool sh_fm_u32_at(const sh_cursor *c, uint64_t off, bool big_endian, uint32_t *v);
bool sh_fm_u64_at(const sh_cursor *c, uint64_t off, bool big_endian, uint64_t *v);

/* Walkers: append the fields found (silently stopping at the table's capacity). */
void sh_fm_collect(const uint8_t *data, size_t size, sh_fm_kind kind, sh_fm_fields *out);
void sh_fm_collect_superblob(const sh_cursor *sb, sh_fm_fields *out);
void sh_fm_collect_blob(const sh_cursor *blob, sh_fm_fields *out);

/* A value for field f chosen for its meaning; other fields of the table serve as offsets to
 * point at. */
uint64_t sh_fm_pick_value(const sh_fm_field *f, const sh_fm_fields *all, sh_fm_rng *rng);
/* Writes v into data at f (bounds-checked; false when it does not fit). */
bool sh_fm_store(uint8_t *data, size_t size, const sh_fm_field *f, uint64_t v);
/* Applies one meaningful change to field f in place (integers via sh_fm_pick_value, hashes and
 * strings byte-wise). */
bool sh_fm_mutate_field(uint8_t *data, size_t size, const sh_fm_field *f,
                        const sh_fm_fields *all, sh_fm_rng *rng);

/* ---- SuperBlob rebuilding (fuzz_mutator_blobs.c) ----------------------------------------- */

typedef struct sh_fm_blob {
    uint32_t type;
    sh_cursor bytes; /* the blob, header included */
} sh_fm_blob;

typedef struct sh_fm_blob_list {
    uint32_t magic;
    sh_fm_blob b[SH_MAX_SUPERBLOB_BLOBS];
    uint32_t n;
} sh_fm_blob_list;

/* Reads a SuperBlob's index into list; false when it is not one (entries whose blob does not
 * lie inside are skipped). */
bool sh_fm_blob_list_read(const sh_cursor *sb, sh_fm_blob_list *list);
/* Writes a fresh SuperBlob for list (offsets and lengths consistent). */
bool sh_fm_blob_list_write(const sh_fm_blob_list *list, sh_bytebuf *out);

/* The SuperBlob mutation on data (a SuperBlob or a Mach-O), with partner's blobs available for
 * crossover (may be NULL).  Writes the result into out. */
bool sh_fm_mutate_blobs(const uint8_t *data, size_t size, sh_fm_kind kind,
                        const sh_cursor *partner, sh_fm_rng *rng, sh_bytebuf *out,
                        const char **what);

/* The signature region of the first slice whose LC_CODE_SIGNATURE is readable: its absolute
 * offset and size, the slice's bounds and the field offsets a resize must fix. */
typedef struct sh_fm_sigspot {
    uint64_t slice_off, slice_size;
    bool big_endian;
    uint64_t sig_off, sig_size;     /* absolute */
    uint64_t datasize_field;        /* absolute offset of LC_CODE_SIGNATURE datasize */
    uint64_t linkedit_filesize;     /* absolute offset of __LINKEDIT filesize (0: none) */
    uint64_t linkedit_vmsize;
    bool linkedit_64;
    bool fat;
} sh_fm_sigspot;
bool sh_fm_find_signature(const uint8_t *data, size_t size, uint64_t which, sh_fm_sigspot *out);

/* ---- re-signing (fuzz_mutator_resign.c) --------------------------------------------------- */

bool sh_fm_resign(const sh_fm_config *c, const uint8_t *data, size_t size, sh_fm_rng *rng,
                  sh_bytebuf *out, const char **what, bool *damaged);

/* ---- packed bundles (fuzz_mutator_bundle.c) ----------------------------------------------- */

bool sh_fm_mutate_bundle(const sh_fm_config *c, const uint8_t *data, size_t size,
                         sh_fm_rng *rng, sh_bytebuf *out, const char **what);

/* fuzz_mutator_cross.c: a's bundle with the extension, a file or the profile of b's (or b, a
 * lone Mach-O, as its extension's executable); false when nothing applies. */
bool sh_fm_crossover_bundle(const sh_fm_config *c, const uint8_t *a, size_t a_len,
                            const uint8_t *b, size_t b_len, sh_fm_rng *rng, sh_bytebuf *out,
                            const char **what);

/* The re-signing bundle actions, on a bundle a catalogue context describes (mutation.h); each
 * returns a static name of what it did ("rebuild.requirements"), NULL when it could not apply
 * (the bundle may then be half edited: callers discard it). */
struct sh_mut_ctx;
/* fuzz_mutator_rebuild.c: the extension or app re-signed with changed signing settings. */
const char *sh_fm_bundle_rebuild(const sh_fm_config *c, struct sh_mut_ctx *ctx, sh_fm_rng *rng);
/* fuzz_mutator_seal.c: root's CodeResources edited, then its main executable signed again with
 * code (the options it was just signed with) over the edited seal. */
struct sh_sign_options;
const char *sh_fm_seal_rewrite(struct sh_mut_ctx *ctx, const char *root,
                               const struct sh_sign_options *code, sh_fm_rng *rng);
/* fuzz_mutator_cms.c: the CMS of root's executable made again over its CodeDirectories with
 * another signer, certificate list, time, CodeDirectory list or timestamp. */
const char *sh_fm_bundle_cms(const sh_fm_config *c, struct sh_mut_ctx *ctx, sh_fm_rng *rng);
/* fuzz_mutator_profile.c: the embedded profile's plist edited and the profile re-signed. */
const char *sh_fm_bundle_profile(const sh_fm_config *c, struct sh_mut_ctx *ctx, sh_fm_rng *rng);

/* ---- generated contents (fuzz_mutator_reqgen.c, fuzz_mutator_plistgen.c) ------------------ */

/* What a requirement is generated about: the code's identifier and its signing leaf's team
 * (subject OU) and CN ("" or NULL when ad hoc). */
typedef struct sh_fm_req_facts {
    const char *identifier;
    const char *team;
    const char *leaf_cn;
} sh_fm_req_facts;
/* Requirement-set text ("designated => ...") into buf; false when it did not fit. */
bool sh_fm_requirement_text(sh_fm_rng *rng, const sh_fm_req_facts *f, char *buf, size_t size);

/* A fresh entitlements dict (caller frees with plist_free), or one key of dict changed or
 * removed; team and identifier fill the values that name them. */
plist_t sh_fm_entitlements_dict(sh_fm_rng *rng, const char *team, const char *identifier);
void sh_fm_entitlements_edit(plist_t dict, sh_fm_rng *rng, const char *team,
                             const char *identifier);
/* One change to an Info.plist dict (identifier, package type, category keys, usage strings,
 * versions, the executable name, a value of the wrong type). */
void sh_fm_info_edit(plist_t dict, sh_fm_rng *rng, const char *identifier);

/* fuzz_mutator_plisttext.c: root written as XML plist text in a style drawn from rng (appended
 * to out; false, out unchanged, when it cannot be written); sloppy adds the mistakes of
 * hand-edited files.  sh_fm_plist_restyle parses a plist file (XML or binary, through the
 * guard) and writes it again in another style, or as a binary plist. */
bool sh_fm_plist_text(plist_t root, sh_fm_rng *rng, bool sloppy, sh_bytebuf *out);
bool sh_fm_plist_restyle(const uint8_t *data, size_t len, const sh_allocator *alloc,
                         sh_fm_rng *rng, bool sloppy, sh_bytebuf *out);
/* One mistake made in plist file text b (XML: an entry of an unusual type or form added to the
 * first dict, or something wrong around the root; binary: a trailer field or an object marker
 * changed); false when there is no place for it. */
bool sh_fm_plist_damage(sh_bytebuf *b, sh_fm_rng *rng);

#endif
