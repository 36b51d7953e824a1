#include "reqeval.h"

#include <string.h>

#include "requirement.h"
#include "sh_limits.h"

typedef struct eval_ctx {
    const sh_req_subject *s;
    sh_req_result *result;
    sh_error *err;
} eval_ctx;

/* 1.2.840.113635.100.6 : the prefix of Apple's marker extension OIDs (content bytes) */
static const uint8_t apple_marker_prefix[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x06};

static bool unsupported(eval_ctx *x, uint32_t op)
{
    if (!x->result->has_unsupported) {
        x->result->has_unsupported = true;
        x->result->unsupported_op = op;
    }
    return false;
}

static sh_err truncated(eval_ctx *x, const sh_cursor *c)
{
    return sh_fail(x->err, SH_E_REQ_TRUNCATED, "requirement", -1, sh_cursor_pos(c));
}

/* A data item: u32 length, bytes, zero padding to 4. */
static sh_err read_data(eval_ctx *x, sh_cursor *c, sh_cursor *out)
{
    uint32_t len;
    if (!sh_cursor_u32be(c, &len) || !sh_cursor_take(c, len, out))
        return truncated(x, c);
    size_t pad = (4 - (len & 3u)) & 3u;
    if (!sh_cursor_skip(c, pad))
        return truncated(x, c);
    return SH_E_OK;
}

static bool data_equals(const sh_cursor *d, const char *s)
{
    return s && strlen(s) == sh_cursor_len(d) && memcmp(d->p, s, sh_cursor_len(d)) == 0;
}

typedef struct match_op {
    uint32_t op;
    sh_cursor value; /* matches 1..8 */
} match_op;

static sh_err read_match(eval_ctx *x, sh_cursor *c, match_op *m)
{
    if (!sh_cursor_u32be(c, &m->op))
        return truncated(x, c);
    if (m->op == SH_REQ_MATCH_EXISTS || m->op == SH_REQ_MATCH_ABSENT)
        return SH_E_OK;
    if (m->op <= SH_REQ_MATCH_GREATER_EQUAL)
        return read_data(x, c, &m->value);
    if (m->op <= SH_REQ_MATCH_ON_OR_AFTER)
        return sh_cursor_skip(c, 8) ? SH_E_OK : truncated(x, c);
    return sh_fail_value(x->err, SH_E_REQ_UNKNOWN_MATCH, "requirement", -1, sh_cursor_pos(c), m->op);
}

/* A string value (NULL: absent) against a match; dates cannot apply to strings. */
static bool match_string(eval_ctx *x, const match_op *m, const char *v, uint32_t op)
{
    if (m->op == SH_REQ_MATCH_EXISTS)
        return v != NULL;
    if (m->op == SH_REQ_MATCH_ABSENT)
        return v == NULL;
    if (!v)
        return false;
    size_t vlen = strlen(v), plen = sh_cursor_len(&m->value);
    const uint8_t *p = m->value.p;
    int cmp = memcmp(v, p, vlen < plen ? vlen : plen);
    if (cmp == 0)
        cmp = vlen < plen ? -1 : vlen > plen ? 1 : 0;
    switch (m->op) {
    case SH_REQ_MATCH_EQUAL:
        return cmp == 0;
    case SH_REQ_MATCH_CONTAINS:
        for (size_t i = 0; plen <= vlen && i + plen <= vlen; i++)
            if (memcmp(v + i, p, plen) == 0)
                return true;
        return false;
    case SH_REQ_MATCH_BEGINS_WITH:
        return plen <= vlen && memcmp(v, p, plen) == 0;
    case SH_REQ_MATCH_ENDS_WITH:
        return plen <= vlen && memcmp(v + vlen - plen, p, plen) == 0;
    case SH_REQ_MATCH_LESS_THAN:
        return cmp < 0;
    case SH_REQ_MATCH_GREATER_THAN:
        return cmp > 0;
    case SH_REQ_MATCH_LESS_EQUAL:
        return cmp <= 0;
    case SH_REQ_MATCH_GREATER_EQUAL:
        return cmp >= 0;
    default:
        return unsupported(x, op);
    }
}

static const sh_cert_facts *cert_at(const sh_req_subject *s, int32_t index)
{
    if (!s->chain || s->chain->length == 0)
        return NULL;
    uint32_t n = s->chain->length;
    if (n > SH_MAX_CMS_CHAIN_DEPTH + 2)
        n = SH_MAX_CMS_CHAIN_DEPTH + 2;
    if (index == SH_REQ_CERT_ANCHOR)
        return &s->chain->certs[n - 1];
    if (index < 0 || (uint32_t)index >= n)
        return NULL;
    return &s->chain->certs[index];
}

static bool anchored_at_apple(const sh_req_subject *s)
{
    return s->chain && s->chain->verified &&
           (s->chain->anchor == SH_ANCHOR_APPLE_ROOT ||
            (s->chain->anchor == SH_ANCHOR_CALLER && s->caller_root_is_apple));
}

static sh_err eval(eval_ctx *x, sh_cursor *c, uint32_t depth, bool *out);

static sh_err eval_cert_field(eval_ctx *x, sh_cursor *c, uint32_t op, bool *out)
{
    uint32_t index;
    sh_cursor field;
    match_op m;
    sh_err e;
    if (!sh_cursor_u32be(c, &index))
        return truncated(x, c);
    if ((e = read_data(x, c, &field)) != SH_E_OK || (e = read_match(x, c, &m)) != SH_E_OK)
        return e;
    const sh_cert_facts *cert = cert_at(x->s, (int32_t)index);
    const char *value = NULL;
    if (data_equals(&field, "subject.CN"))
        value = cert && cert->cn_len > 0 ? cert->cn : NULL;
    else if (data_equals(&field, "subject.OU"))
        value = cert && cert->has_ou && !cert->ou_unreadable ? cert->ou : NULL;
    else {
        *out = unsupported(x, op);
        return SH_E_OK;
    }
    *out = match_string(x, &m, value, op);
    return SH_E_OK;
}

/* certificate N[field.1.2.840.113635.100.6.{1,2}.n] exists / absent */
static sh_err eval_cert_generic(eval_ctx *x, sh_cursor *c, uint32_t op, bool *out)
{
    uint32_t index;
    sh_cursor oid;
    match_op m;
    sh_err e;
    if (!sh_cursor_u32be(c, &index))
        return truncated(x, c);
    if ((e = read_data(x, c, &oid)) != SH_E_OK || (e = read_match(x, c, &m)) != SH_E_OK)
        return e;
    size_t plen = sizeof apple_marker_prefix;
    bool marker = sh_cursor_len(&oid) == plen + 2 && memcmp(oid.p, apple_marker_prefix, plen) == 0 &&
                  (oid.p[plen] == 1 || oid.p[plen] == 2) && oid.p[plen + 1] < 64;
    if (!marker || (m.op != SH_REQ_MATCH_EXISTS && m.op != SH_REQ_MATCH_ABSENT)) {
        *out = unsupported(x, op);
        return SH_E_OK;
    }
    const sh_cert_facts *cert = cert_at(x->s, (int32_t)index);
    uint64_t bits = !cert ? 0 : oid.p[plen] == 1 ? cert->apple_leaf_markers : cert->apple_ca_markers;
    bool present = (bits >> oid.p[plen + 1]) & 1u;
    *out = m.op == SH_REQ_MATCH_EXISTS ? present : !present;
    return SH_E_OK;
}

static sh_err eval_entitlement(eval_ctx *x, sh_cursor *c, uint32_t op, bool *out)
{
    sh_cursor key;
    match_op m;
    sh_err e;
    if ((e = read_data(x, c, &key)) != SH_E_OK || (e = read_match(x, c, &m)) != SH_E_OK)
        return e;
    char name[256];
    if (sh_cursor_len(&key) >= sizeof name) {
        *out = unsupported(x, op);
        return SH_E_OK;
    }
    memcpy(name, key.p, sh_cursor_len(&key));
    name[sh_cursor_len(&key)] = '\0';
    const sh_ent_node *v = x->s->entitlements ? sh_ent_dict_get(x->s->entitlements, name) : NULL;
    if (m.op == SH_REQ_MATCH_EXISTS || m.op == SH_REQ_MATCH_ABSENT) {
        *out = (v != NULL) == (m.op == SH_REQ_MATCH_EXISTS);
        return SH_E_OK;
    }
    if (v && v->type != SH_ENT_STRING) {
        *out = unsupported(x, op);
        return SH_E_OK;
    }
    *out = match_string(x, &m, v ? (const char *)v->bytes : NULL, op);
    return SH_E_OK;
}

/* Operands of the ops we cannot decide, consumed so evaluation can go on. */
static sh_err skip_undecidable(eval_ctx *x, sh_cursor *c, uint32_t op, bool *out)
{
    sh_cursor d;
    match_op m;
    sh_err e = SH_E_OK;
    switch (op) {
    case SH_REQ_OP_ANCHOR_HASH:
        e = sh_cursor_skip(c, 4) ? read_data(x, c, &d) : truncated(x, c);
        break;
    case SH_REQ_OP_INFO_KEY_VALUE:
        if ((e = read_data(x, c, &d)) == SH_E_OK)
            e = read_data(x, c, &d);
        break;
    case SH_REQ_OP_INFO_KEY_FIELD:
        if ((e = read_data(x, c, &d)) == SH_E_OK)
            e = read_match(x, c, &m);
        break;
    case SH_REQ_OP_TRUSTED_CERT:
        e = sh_cursor_skip(c, 4) ? SH_E_OK : truncated(x, c);
        break;
    case SH_REQ_OP_CERT_POLICY:
    case SH_REQ_OP_CERT_FIELD_DATE:
        if (!sh_cursor_skip(c, 4))
            return truncated(x, c);
        if ((e = read_data(x, c, &d)) == SH_E_OK)
            e = read_match(x, c, &m);
        break;
    case SH_REQ_OP_NAMED_ANCHOR:
    case SH_REQ_OP_NAMED_CODE:
        e = read_data(x, c, &d);
        break;
    default: /* TRUSTED_CERTS, LEGACY_DEVID: no operands */
        break;
    }
    *out = unsupported(x, op);
    return e;
}

static sh_err eval(eval_ctx *x, sh_cursor *c, uint32_t depth, bool *out)
{
    if (depth > SH_MAX_REQUIREMENT_DEPTH)
        return sh_fail(x->err, SH_E_REQ_TOO_DEEP, "requirement", -1, sh_cursor_pos(c));
    uint32_t raw;
    if (!sh_cursor_u32be(c, &raw))
        return truncated(x, c);
    uint32_t op = raw & ~SH_REQ_OP_FLAG_MASK;
    const sh_req_subject *s = x->s;
    sh_cursor d;
    sh_err e;
    bool a, b;
    switch (op) {
    case SH_REQ_OP_FALSE:
        *out = false;
        return SH_E_OK;
    case SH_REQ_OP_TRUE:
        *out = true;
        return SH_E_OK;
    case SH_REQ_OP_IDENT:
        if ((e = read_data(x, c, &d)) != SH_E_OK)
            return e;
        *out = data_equals(&d, s->identifier);
        return SH_E_OK;
    case SH_REQ_OP_APPLE_ANCHOR: /* Apple's own code: signed by Apple, leaf marker 6.1.1 */
        *out = anchored_at_apple(s) && cert_at(s, 0) &&
               (cert_at(s, 0)->apple_leaf_markers >> SH_APPLE_LEAF_APPLE_SIGNING & 1u);
        return SH_E_OK;
    case SH_REQ_OP_APPLE_GENERIC_ANCHOR:
        *out = anchored_at_apple(s);
        return SH_E_OK;
    case SH_REQ_OP_AND:
    case SH_REQ_OP_OR:
        if ((e = eval(x, c, depth + 1, &a)) != SH_E_OK || (e = eval(x, c, depth + 1, &b)) != SH_E_OK)
            return e;
        *out = op == SH_REQ_OP_AND ? a && b : a || b;
        return SH_E_OK;
    case SH_REQ_OP_NOT:
        if ((e = eval(x, c, depth + 1, &a)) != SH_E_OK)
            return e;
        *out = !a;
        return SH_E_OK;
    case SH_REQ_OP_CDHASH: /* Security compares the 20-byte truncated cdhash */
        if ((e = read_data(x, c, &d)) != SH_E_OK)
            return e;
        *out = s->cdhash && sh_cursor_len(&d) > 0 && sh_cursor_len(&d) <= s->cdhash_len &&
               sh_cursor_len(&d) == (s->cdhash_len < 20 ? s->cdhash_len : 20) &&
               memcmp(d.p, s->cdhash, sh_cursor_len(&d)) == 0;
        return SH_E_OK;
    case SH_REQ_OP_CERT_FIELD:
        return eval_cert_field(x, c, op, out);
    case SH_REQ_OP_CERT_GENERIC:
        return eval_cert_generic(x, c, op, out);
    case SH_REQ_OP_ENTITLEMENT_FIELD:
        return eval_entitlement(x, c, op, out);
    case SH_REQ_OP_PLATFORM: {
        uint32_t platform;
        if (!sh_cursor_u32be(c, &platform))
            return truncated(x, c);
        *out = platform == s->platform;
        return SH_E_OK;
    }
    case SH_REQ_OP_NOTARIZED:
        *out = s->notarized;
        return SH_E_OK;
    default:
        break;
    }
    if (op < SH_REQ_OP_COUNT)
        return skip_undecidable(x, c, op, out);
    if (raw & (SH_REQ_OP_GENERIC_FALSE | SH_REQ_OP_GENERIC_SKIP)) {
        uint32_t size;
        if (!sh_cursor_u32be(c, &size) || !sh_cursor_skip(c, size))
            return sh_fail(x->err, SH_E_REQ_SKIP_PAST_END, "requirement", -1, sh_cursor_pos(c));
        if (raw & SH_REQ_OP_GENERIC_FALSE) {
            *out = false;
            return SH_E_OK;
        }
        return eval(x, c, depth, out); /* skip: the next expression stands in its place */
    }
    return sh_fail_value(x->err, SH_E_REQ_UNKNOWN_OPCODE, "requirement", -1, sh_cursor_pos(c), raw);
}

sh_err sh_req_evaluate(const sh_cursor *requirement, const sh_req_subject *subject,
                       sh_req_result *result, sh_error *err)
{
    memset(result, 0, sizeof *result);
    sh_err e = sh_req_check(requirement, NULL, err);
    if (e != SH_E_OK)
        return e;
    uint32_t magic, length, kind;
    if (!sh_cursor_u32be_at(requirement, 0, &magic) || !sh_cursor_u32be_at(requirement, 4, &length) ||
        !sh_cursor_u32be_at(requirement, 8, &kind))
        return sh_fail(err, SH_E_REQ_TRUNCATED, "requirement", -1, sh_cursor_pos(requirement));
    if (magic != SH_REQ_MAGIC)
        return sh_fail_value(err, SH_E_REQ_BAD_MAGIC, "requirement", -1, sh_cursor_pos(requirement),
                             magic);
    if (kind != SH_REQ_KIND_EXPR)
        return sh_fail_value(err, SH_E_REQ_KIND_UNSUPPORTED, "requirement", -1,
                             sh_cursor_pos(requirement), kind);
    sh_cursor program;
    if (length < SH_REQ_HEADER_SIZE ||
        !sh_cursor_sub(requirement, SH_REQ_HEADER_SIZE, length - SH_REQ_HEADER_SIZE, &program))
        return sh_fail(err, SH_E_REQ_TRUNCATED, "requirement", -1, sh_cursor_pos(requirement));
    eval_ctx x = {subject, result, err};
    bool ok = false;
    e = eval(&x, &program, 1, &ok);
    result->satisfied = e == SH_E_OK && ok;
    return e;
}

sh_err sh_req_evaluate_text(const char *text, const sh_req_subject *subject,
                            sh_req_result *result, sh_error *err)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    memset(result, 0, sizeof *result);
    sh_err e = sh_req_compile(text, strlen(text), SH_REQ_PARSE_SINGLE, NULL, &blob, &len, NULL, err);
    if (e != SH_E_OK)
        return e;
    sh_cursor c = sh_cursor_make(blob, len);
    e = sh_req_evaluate(&c, subject, result, err);
    sh_free(NULL, blob);
    return e;
}
