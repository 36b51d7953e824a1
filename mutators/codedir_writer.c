#include "codedir_writer.h"

#include <string.h>

/* ---- CodeDirectory ------------------------------------------------------------------------ */

void sh_cd_params_init(sh_cd_params *p, const char *identifier)
{
    memset(p, 0, sizeof *p);
    p->identifier = identifier;
    p->version = SH_CDW_DEFAULT_VERSION;
    p->hash_type = SH_HASH_SHA256;
    p->page_shift = SH_CDW_DEFAULT_PAGE_SHIFT;
}

size_t sh_cd_header_size(uint32_t version)
{
    if (version < SH_CD_VERSION_EARLIEST || version > SH_CD_VERSION_MAX)
        return 0;
    return sh_codedir_header_size(version);
}

uint64_t sh_cd_code_slots(uint64_t code_limit, uint8_t page_shift)
{
    if (code_limit == 0)
        return 0;
    if (page_shift == 0) /* "infinite" page: one hash covers everything */
        return 1;
    return ((code_limit - 1) >> page_shift) + 1;
}

static uint32_t highest_special_slot(const sh_cd_params *p)
{
    for (uint32_t slot = SH_CDW_MAX_SPECIAL_SLOT; slot >= 1; slot--)
        if (p->special[slot].p)
            return slot;
    return 0;
}

/* Where everything goes inside one CodeDirectory; offsets from the blob start. */
typedef struct cd_layout {
    size_t header_size;
    size_t ident_offset, ident_len; /* len without the NUL */
    size_t team_offset, team_len;   /* team_offset 0 when there is no team */
    size_t hash_size;
    uint32_t n_special;
    uint64_t n_code;
    size_t hash_offset; /* code slot 0 */
    size_t total;
} cd_layout;

static sh_write_status check_strings(const sh_cd_params *p, sh_write_error *err)
{
    if (!p->identifier || p->identifier[0] == '\0' ||
        strlen(p->identifier) > SH_MAX_IDENTIFIER_LEN)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "identifier");
    if (p->team_id && (p->team_id[0] == '\0' || strlen(p->team_id) > SH_MAX_IDENTIFIER_LEN))
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "team identifier");
    if (p->team_id && p->version < SH_CD_VERSION_TEAM)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "team identifier needs version >= 0x20200");
    return SH_W_OK;
}

/* Fields a version's header has no room for must be zero: refusing beats silently dropping. */
static sh_write_status check_version_fields(const sh_cd_params *p, uint64_t code_limit,
                                            sh_write_error *err)
{
    if (sh_cd_header_size(p->version) == 0)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "version");
    if (code_limit > UINT32_MAX && p->version < SH_CD_VERSION_CODELIMIT64)
        return sh_write_fail(err, SH_W_TOO_LARGE, "code limit above 4 GiB needs version >= 0x20300");
    if ((p->exec_seg_base || p->exec_seg_limit || p->exec_seg_flags) &&
        p->version < SH_CD_VERSION_EXECSEG)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "execSeg fields need version >= 0x20400");
    if (p->runtime && p->version < SH_CD_VERSION_RUNTIME)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "runtime needs version >= 0x20500");
    return SH_W_OK;
}

static sh_write_status check_params(const sh_cd_params *p, uint64_t code_limit,
                                    sh_write_error *err)
{
    sh_write_status st = check_strings(p, err);
    if (st == SH_W_OK)
        st = check_version_fields(p, code_limit, err);
    if (st != SH_W_OK)
        return st;
    if (!sh_hash_supported(p->hash_type))
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "hash type");
    if (p->page_shift > SH_MAX_PAGE_SHIFT)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "page shift");
    /* checkIntegrity rejects a zero limit when pages are hashed. */
    if (code_limit == 0 && p->page_shift != 0)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "code limit 0 with paged hashing");
    if (code_limit > SIZE_MAX)
        return sh_write_fail(err, SH_W_TOO_LARGE, "code limit");
    return SH_W_OK;
}

/* Security's Builder order: header, (scatter: never), identifier, team, special hashes, code
 * hashes; nothing is padded. */
static sh_write_status compute_layout(const sh_cd_params *p, uint64_t code_limit, cd_layout *l,
                                      sh_write_error *err)
{
    memset(l, 0, sizeof *l);
    l->header_size = sh_cd_header_size(p->version);
    l->ident_offset = l->header_size;
    l->ident_len = strlen(p->identifier);
    uint64_t offset = l->ident_offset + l->ident_len + 1 + p->ident_padding;
    if (p->team_id) {
        l->team_offset = (size_t)offset;
        l->team_len = strlen(p->team_id);
        offset += l->team_len + 1; /* both strings are capped at SH_MAX_IDENTIFIER_LEN */
    }
    l->hash_size = sh_hash_size(p->hash_type);
    l->n_special = highest_special_slot(p);
    l->n_code = sh_cd_code_slots(code_limit, p->page_shift);
    if (l->n_code > UINT32_MAX)
        return sh_write_fail(err, SH_W_TOO_LARGE, "nCodeSlots");
    uint64_t special_bytes = (uint64_t)l->n_special * l->hash_size;
    uint64_t code_bytes, hash_offset, total;
    if (!sh_mul_u64(l->n_code, l->hash_size, &code_bytes) ||
        !sh_add_u64(offset, special_bytes, &hash_offset) ||
        !sh_add_u64(hash_offset, code_bytes, &total) || total > UINT32_MAX)
        return sh_write_fail(err, SH_W_TOO_LARGE, "CodeDirectory length");
    l->hash_offset = (size_t)hash_offset;
    l->total = (size_t)total;
    return SH_W_OK;
}

sh_write_status sh_cd_size(const sh_cd_params *p, uint64_t code_limit, size_t *size,
                           sh_write_error *err)
{
    cd_layout l;
    sh_write_status st = check_params(p, code_limit, err);
    if (st == SH_W_OK)
        st = compute_layout(p, code_limit, &l, err);
    if (st == SH_W_OK)
        *size = l.total;
    return st;
}

/* The version-dependent tail of the header: each group exists from the version that added it. */
static void write_header_tail(sh_bytebuf *out, const sh_cd_params *p, const cd_layout *l,
                              uint64_t code_limit)
{
    if (p->version >= SH_CD_VERSION_SCATTER)
        sh_bytebuf_u32be(out, 0); /* scatterOffset: never written by codesign for Mach-O */
    if (p->version >= SH_CD_VERSION_TEAM)
        sh_bytebuf_u32be(out, (uint32_t)l->team_offset);
    if (p->version >= SH_CD_VERSION_CODELIMIT64) {
        sh_bytebuf_u32be(out, 0); /* spare3 */
        sh_bytebuf_u64be(out, code_limit > UINT32_MAX ? code_limit : 0);
    }
    if (p->version >= SH_CD_VERSION_EXECSEG) {
        sh_bytebuf_u64be(out, p->exec_seg_base);
        sh_bytebuf_u64be(out, p->exec_seg_limit);
        sh_bytebuf_u64be(out, p->exec_seg_flags);
    }
    if (p->version >= SH_CD_VERSION_RUNTIME) {
        sh_bytebuf_u32be(out, p->runtime);
        sh_bytebuf_u32be(out, 0); /* preEncryptOffset: no pre-encryption hashes */
    }
    if (p->version >= SH_CD_VERSION_LINKAGE)
        sh_bytebuf_append_zeros(out, 12); /* linkage: none */
}

static void write_header(sh_bytebuf *out, const sh_cd_params *p, const cd_layout *l,
                         uint64_t code_limit)
{
    sh_bytebuf_u32be(out, SH_MAGIC_CODEDIRECTORY);
    sh_bytebuf_u32be(out, (uint32_t)l->total);
    sh_bytebuf_u32be(out, p->version);
    sh_bytebuf_u32be(out, p->flags);
    sh_bytebuf_u32be(out, (uint32_t)l->hash_offset);
    sh_bytebuf_u32be(out, (uint32_t)l->ident_offset);
    sh_bytebuf_u32be(out, l->n_special);
    sh_bytebuf_u32be(out, (uint32_t)l->n_code);
    /* Above 4 GiB the 32-bit field saturates and codeLimit64 carries the value (Security). */
    sh_bytebuf_u32be(out, code_limit > UINT32_MAX ? UINT32_MAX : (uint32_t)code_limit);
    sh_bytebuf_u8(out, (uint8_t)l->hash_size);
    sh_bytebuf_u8(out, p->hash_type);
    sh_bytebuf_u8(out, p->platform);
    sh_bytebuf_u8(out, p->page_shift);
    sh_bytebuf_u32be(out, 0); /* spare2 */
    write_header_tail(out, p, l, code_limit);
}

/* Special slot n sits n hashes before code slot 0; absent slots stay zero. */
static bool hash_special_slots(sh_hasher *h, const sh_cd_params *p, const cd_layout *l,
                               uint8_t *cd)
{
    for (uint32_t slot = 1; slot <= l->n_special; slot++) {
        const sh_bytes *in = &p->special[slot];
        if (in->p && !sh_hasher_digest(h, in->p, in->len, cd + l->hash_offset - slot * l->hash_size))
            return false;
    }
    return true;
}

static bool hash_code_pages(sh_hasher *h, const cd_layout *l, uint8_t page_shift,
                            const uint8_t *code, uint64_t code_limit, uint8_t *cd)
{
    uint64_t page = page_shift ? (uint64_t)1 << page_shift : code_limit;
    uint8_t *slot = cd + l->hash_offset;
    for (uint64_t i = 0, off = 0; i < l->n_code; i++, off += page, slot += l->hash_size) {
        uint64_t len = code_limit - off < page ? code_limit - off : page;
        if (!sh_hasher_digest(h, code + off, (size_t)len, slot))
            return false;
    }
    return true;
}

static sh_write_status fill_hashes(const sh_cd_params *p, const cd_layout *l, const uint8_t *code,
                                   uint64_t code_limit, uint8_t *cd, sh_write_error *err)
{
    sh_hasher *h = sh_hasher_new(p->hash_type);
    if (!h)
        return sh_write_fail(err, SH_W_HASH_FAILED, "hasher");
    bool ok = hash_special_slots(h, p, l, cd) &&
              hash_code_pages(h, l, p->page_shift, code, code_limit, cd);
    sh_hasher_free(h);
    return ok ? SH_W_OK : sh_write_fail(err, SH_W_HASH_FAILED, "page hash");
}

sh_write_status sh_cd_write(const sh_cd_params *p, const uint8_t *code, uint64_t code_limit,
                            sh_bytebuf *out, sh_write_error *err)
{
    cd_layout l;
    sh_write_status st = check_params(p, code_limit, err);
    if (st == SH_W_OK)
        st = compute_layout(p, code_limit, &l, err);
    if (st != SH_W_OK)
        return st;
    if (code_limit && !code)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "code");
    size_t start = out->len;
    sh_bytebuf_reserve(out, l.total);
    write_header(out, p, &l, code_limit);
    sh_bytebuf_append(out, p->identifier, l.ident_len + 1);
    sh_bytebuf_append_zeros(out, p->ident_padding);
    if (p->team_id)
        sh_bytebuf_append(out, p->team_id, l.team_len + 1);
    sh_bytebuf_append_zeros(out, l.total - l.hash_offset + (size_t)l.n_special * l.hash_size);
    if (!sh_bytebuf_ok(out))
        return sh_write_fail(err, sh_bytebuf_status(out), "CodeDirectory");
    if (out->len - start != l.total) /* layout and writer disagree: a bug, never a short blob */
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "CodeDirectory layout");
    st = fill_hashes(p, &l, code, code_limit, out->data + start, err);
    if (st != SH_W_OK)
        out->len = start; /* leave no half-written blob behind */
    return st;
}

/* ---- generic blobs and SuperBlobs --------------------------------------------------------- */

sh_write_status sh_blob_write(uint32_t magic, const uint8_t *payload, size_t len, sh_bytebuf *out,
                              sh_write_error *err)
{
    if (len > UINT32_MAX - 8)
        return sh_write_fail(err, SH_W_TOO_LARGE, "blob length");
    if (len && !payload)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "blob payload");
    sh_bytebuf_u32be(out, magic);
    sh_bytebuf_u32be(out, (uint32_t)(len + 8));
    sh_bytebuf_append(out, payload, len);
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "blob");
}

sh_write_status sh_requirements_empty_write(sh_bytebuf *out, sh_write_error *err)
{
    static const uint8_t count_zero[4] = {0, 0, 0, 0};
    return sh_blob_write(SH_MAGIC_REQUIREMENTS, count_zero, sizeof count_zero, out, err);
}

static uint32_t load_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A blob must describe itself: a length field that disagrees with its size is a caller bug. */
static bool blob_header_consistent(const sh_bytes *b)
{
    return b->p && b->len >= 8 && b->len <= UINT32_MAX && load_u32be(b->p + 4) == b->len;
}

sh_write_status sh_superblob_size(const sh_blob_slot *slots, size_t n, size_t *size,
                                  sh_write_error *err)
{
    if (n > SH_MAX_SUPERBLOB_BLOBS)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "SuperBlob count");
    uint64_t total = 12 + 8 * (uint64_t)n;
    for (size_t i = 0; i < n; i++) {
        if (slots[i].blob.len < 8)
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "SuperBlob entry length");
        if (i > 0 && slots[i].type <= slots[i - 1].type)
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "SuperBlob slot order");
        if (!sh_add_u64(total, slots[i].blob.len, &total) || total > UINT32_MAX)
            return sh_write_fail(err, SH_W_TOO_LARGE, "SuperBlob length");
    }
    *size = (size_t)total;
    return SH_W_OK;
}

sh_write_status sh_superblob_write_index(uint32_t magic, const sh_blob_slot *slots, size_t n,
                                         sh_bytebuf *out, sh_write_error *err)
{
    size_t total;
    sh_write_status st = sh_superblob_size(slots, n, &total, err);
    if (st != SH_W_OK)
        return st;
    sh_bytebuf_u32be(out, magic);
    sh_bytebuf_u32be(out, (uint32_t)total);
    sh_bytebuf_u32be(out, (uint32_t)n);
    size_t offset = 12 + 8 * n; /* blobs follow the index in index order */
    for (size_t i = 0; i < n; i++) {
        sh_bytebuf_u32be(out, slots[i].type);
        sh_bytebuf_u32be(out, (uint32_t)offset);
        offset += slots[i].blob.len; /* bounded by total, checked above */
    }
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "SuperBlob");
}

sh_write_status sh_superblob_write(uint32_t magic, const sh_blob_slot *slots, size_t n,
                                   sh_bytebuf *out, sh_write_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!blob_header_consistent(&slots[i].blob))
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "SuperBlob entry header");
    sh_write_status st = sh_superblob_write_index(magic, slots, n, out, err);
    if (st != SH_W_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        sh_bytebuf_append(out, slots[i].blob.p, slots[i].blob.len);
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "SuperBlob");
}

/* ---- whole embedded signature ------------------------------------------------------------- */

void sh_sig_params_init(sh_sig_params *p, const char *identifier)
{
    memset(p, 0, sizeof *p);
    sh_cd_params_init(&p->cd, identifier);
    p->cd.flags = SH_CS_ADHOC;
    p->empty_requirements = true;
    p->empty_cms = true;
    p->pad_align = 16;
}

void sh_sig_params_dual_hash(sh_sig_params *p)
{
    p->cd.hash_type = SH_HASH_SHA1;
    p->alternate_hash_types[0] = SH_HASH_SHA256;
    p->n_alternates = 1;
}

/* Constant data, never written: the blobs codesign adds to every ad-hoc signature. */
static const uint8_t empty_requirements_blob[SH_EMPTY_REQUIREMENTS_SIZE] = {
    0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, SH_EMPTY_REQUIREMENTS_SIZE, 0, 0, 0, 0};
static const uint8_t empty_blobwrapper[SH_EMPTY_BLOBWRAPPER_SIZE] = {
    0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, SH_EMPTY_BLOBWRAPPER_SIZE};

/* Special slots whose blob is embedded in the SuperBlob; the others (Info.plist 1, resources 3,
 * application 4, rep-specific 6) name files outside the signature and are only hashed. */
static bool slot_is_embedded(uint32_t slot)
{
    return slot == SH_SLOT_REQUIREMENTS || slot == SH_SLOT_ENTITLEMENTS ||
           slot == SH_SLOT_DER_ENTITLEMENTS || slot >= SH_SLOT_LAUNCH_CONSTRAINT_SELF;
}

#define SIG_MAX_ENTRIES (1 + SH_CDW_MAX_SPECIAL_SLOT + SH_MAX_ALTERNATE_CDS + 1)

/* The signature's entries in slot order.  cd_index >= 0 marks a CodeDirectory to be generated
 * (0 = primary, i = alternate i - 1); otherwise blob holds the bytes to copy. */
typedef struct sig_plan {
    sh_cd_params cds[1 + SH_MAX_ALTERNATE_CDS];
    uint32_t ncds;
    sh_blob_slot slots[SIG_MAX_ENTRIES];
    int cd_index[SIG_MAX_ENTRIES];
    size_t n;
    size_t superblob_size, datasize;
} sig_plan;

static sh_write_status check_alternates(const sh_sig_params *p, sh_write_error *err)
{
    if (p->n_alternates > SH_MAX_ALTERNATE_CDS)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "alternate CodeDirectory count");
    /* Two CodeDirectories with one hash type make the signature invalid (StaticCode.cpp). */
    for (uint32_t i = 0; i < p->n_alternates; i++) {
        if (p->alternate_hash_types[i] == p->cd.hash_type)
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "alternate hash type repeats");
        for (uint32_t j = 0; j < i; j++)
            if (p->alternate_hash_types[j] == p->alternate_hash_types[i])
                return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "alternate hash type repeats");
    }
    if (p->pad_align == 0 || (p->pad_align & (p->pad_align - 1)) != 0)
        return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "pad alignment");
    return SH_W_OK;
}

static void plan_add(sig_plan *plan, uint32_t type, const uint8_t *p, size_t len, int cd_index)
{
    plan->slots[plan->n].type = type;
    plan->slots[plan->n].blob.p = p;
    plan->slots[plan->n].blob.len = len;
    plan->cd_index[plan->n] = cd_index;
    plan->n++;
}

static sh_write_status plan_codedirectory(sig_plan *plan, uint32_t type, uint32_t cd,
                                          uint64_t code_limit, sh_write_error *err)
{
    size_t size;
    sh_write_status st = sh_cd_size(&plan->cds[cd], code_limit, &size, err);
    if (st == SH_W_OK)
        plan_add(plan, type, NULL, size, (int)cd);
    return st;
}

static sh_write_status plan_embedded_blobs(sig_plan *plan, sh_write_error *err)
{
    const sh_cd_params *cd = &plan->cds[0];
    for (uint32_t slot = 1; slot <= SH_CDW_MAX_SPECIAL_SLOT; slot++) {
        const sh_bytes *b = &cd->special[slot];
        if (!b->p || !slot_is_embedded(slot))
            continue;
        if (!blob_header_consistent(b))
            return sh_write_fail(err, SH_W_INVALID_ARGUMENT, "special slot blob header");
        plan_add(plan, slot, b->p, b->len, -1);
    }
    return SH_W_OK;
}

static sh_write_status plan_signature(const sh_sig_params *p, uint64_t code_limit, sig_plan *plan,
                                      sh_write_error *err)
{
    memset(plan, 0, sizeof *plan);
    sh_write_status st = check_alternates(p, err);
    if (st != SH_W_OK)
        return st;
    plan->cds[0] = p->cd;
    if (p->empty_requirements && !plan->cds[0].special[SH_SLOT_REQUIREMENTS].p) {
        plan->cds[0].special[SH_SLOT_REQUIREMENTS].p = empty_requirements_blob;
        plan->cds[0].special[SH_SLOT_REQUIREMENTS].len = sizeof empty_requirements_blob;
    }
    plan->ncds = 1 + p->n_alternates;
    for (uint32_t i = 0; i < p->n_alternates; i++) {
        plan->cds[1 + i] = plan->cds[0];
        plan->cds[1 + i].hash_type = p->alternate_hash_types[i];
    }
    st = plan_codedirectory(plan, SH_SLOT_CODEDIRECTORY, 0, code_limit, err);
    if (st == SH_W_OK)
        st = plan_embedded_blobs(plan, err);
    for (uint32_t i = 1; st == SH_W_OK && i < plan->ncds; i++)
        st = plan_codedirectory(plan, SH_SLOT_ALTERNATE_CODEDIRECTORIES + i - 1, i, code_limit, err);
    if (st != SH_W_OK)
        return st;
    if (p->empty_cms)
        plan_add(plan, SH_SLOT_SIGNATURE, empty_blobwrapper, sizeof empty_blobwrapper, -1);
    st = sh_superblob_size(plan->slots, plan->n, &plan->superblob_size, err);
    if (st != SH_W_OK)
        return st;
    uint64_t padded;
    if (!sh_align_up_u64((uint64_t)plan->superblob_size + p->reserve_extra, p->pad_align, &padded) ||
        padded > UINT32_MAX)
        return sh_write_fail(err, SH_W_TOO_LARGE, "signature size");
    plan->datasize = (size_t)padded;
    return SH_W_OK;
}

sh_write_status sh_sig_size(const sh_sig_params *p, uint64_t code_limit, size_t *superblob_size,
                            size_t *datasize, sh_write_error *err)
{
    sig_plan plan;
    sh_write_status st = plan_signature(p, code_limit, &plan, err);
    if (st != SH_W_OK)
        return st;
    if (superblob_size)
        *superblob_size = plan.superblob_size;
    if (datasize)
        *datasize = plan.datasize;
    return SH_W_OK;
}

static sh_write_status write_entries(const sig_plan *plan, const uint8_t *code,
                                     uint64_t code_limit, sh_bytebuf *out, sh_write_error *err)
{
    for (size_t i = 0; i < plan->n; i++) {
        int cd = plan->cd_index[i];
        if (cd < 0) {
            sh_bytebuf_append(out, plan->slots[i].blob.p, plan->slots[i].blob.len);
            continue;
        }
        sh_write_status st = sh_cd_write(&plan->cds[cd], code, code_limit, out, err);
        if (st != SH_W_OK)
            return st;
    }
    return sh_bytebuf_ok(out) ? SH_W_OK : sh_write_fail(err, sh_bytebuf_status(out), "signature");
}

sh_write_status sh_sig_write(const sh_sig_params *p, const uint8_t *code, uint64_t code_limit,
                             sh_bytebuf *out, sh_write_error *err)
{
    sig_plan plan;
    sh_write_status st = plan_signature(p, code_limit, &plan, err);
    if (st != SH_W_OK)
        return st;
    size_t start = out->len;
    if (!sh_bytebuf_reserve(out, plan.datasize))
        return sh_write_fail(err, sh_bytebuf_status(out), "signature");
    st = sh_superblob_write_index(SH_MAGIC_EMBEDDED_SIGNATURE, plan.slots, plan.n, out, err);
    if (st == SH_W_OK)
        st = write_entries(&plan, code, code_limit, out, err);
    if (st == SH_W_OK && out->len - start != plan.superblob_size)
        st = sh_write_fail(err, SH_W_INVALID_ARGUMENT, "signature layout");
    if (st == SH_W_OK && !sh_bytebuf_append_zeros(out, plan.datasize - plan.superblob_size))
        st = sh_write_fail(err, sh_bytebuf_status(out), "signature padding");
    if (st != SH_W_OK)
        out->len = start; /* leave no half-written signature behind */
    return st;
}
