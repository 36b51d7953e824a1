/* Fixture spec parser (see fixture_spec.h and docs/fixture-spec.md). */
#include "fixture_spec.h"

#include <stdio.h>
#include <string.h>

#include "cursor.h"

/* ---- names ---- */

static const char *const category_names[] = {NULL, "network", "endpoint-security", "driver",
                                             "camera"};
static const char *const provider_names[] = {"", "content-filter", "packet-tunnel", "app-proxy",
                                             "dns-proxy"};
static const char *const variant_names[] = {NULL, "developer-id", "development"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *sh_fx_category_name(sh_fx_category c)
{
    return (size_t)c < COUNT(category_names) && category_names[c] ? category_names[c] : "unknown";
}

const char *sh_fx_provider_name(sh_fx_provider p)
{
    return (size_t)p < COUNT(provider_names) ? provider_names[p] : "unknown";
}

const char *sh_fx_variant_name(sh_fx_variant v)
{
    return (size_t)v < COUNT(variant_names) && variant_names[v] ? variant_names[v] : "unknown";
}

const char *sh_fx_variant_policy(sh_fx_variant v)
{
    return v == SH_FX_DEVELOPMENT ? "development" : "distribution";
}

const char *sh_fx_team_id(unsigned team)
{
    return team == 2 ? "SHTEAM0002" : "SHTEAM0001";
}

/* The signing identities of corpus/pki, with the variant and team each one serves. */
static const struct {
    const char *name;
    sh_fx_variant variant;
    unsigned team;
} identities[] = {
    {"devid-team1", SH_FX_DEVELOPER_ID, 1},
    {"devid-team2", SH_FX_DEVELOPER_ID, 2},
    {"dev-team1", SH_FX_DEVELOPMENT, 1},
    {"dev-team2", SH_FX_DEVELOPMENT, 2},
};

/* ---- parser state ---- */

enum key_id {
    K_CATEGORY, K_PROVIDER, K_VARIANT, K_TEAM, K_IDENTITY, K_APP_ID, K_EXTENSION_ID,
    K_APP_GROUP, K_APP_NAME, K_VERSION, K_BUILD, K_DESCRIPTION, K_ARCHS, K_TIMESTAMP,
    K_RUNTIME, K_SANDBOX, K_GET_TASK_ALLOW, K_NOTARIZED, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "category", "provider", "variant", "team", "identity", "app-id", "extension-id",
    "app-group", "app-name", "version", "build", "description", "archs", "timestamp",
    "runtime", "sandbox", "get-task-allow", "notarized",
};

typedef struct line_ctx {
    uint32_t number;
    uint64_t offset;
    sh_error *err;
} line_ctx;

static sh_err fail(const line_ctx *l, sh_err code, const char *where)
{
    return sh_fail(l->err, code, where, (int64_t)l->number, l->offset);
}

/* ---- value checks ---- */

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

static bool copy_bounded(char *dst, size_t dst_size, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= dst_size)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Section names become folder names: [a-z0-9-], not starting with '-'. */
static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SH_MAX_FIXTURE_NAME || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Bundle identifiers and app groups: [A-Za-z0-9.-], dot-separated non-empty parts. */
static bool identifier_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SH_MAX_FIXTURE_ID || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

/* App names become "<name>.app" and the executable's file name. */
static bool app_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SH_MAX_FIXTURE_NAME || !is_alnum(s[0]) || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != ' ' && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* "1", "1.0", "2.10.3": digits and single dots. */
static bool version_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SH_MAX_FIXTURE_NAME || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '.')
            return false;
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

static bool parse_yes_no(const char *v, bool *out)
{
    if (strcmp(v, "yes") == 0)
        *out = true;
    else if (strcmp(v, "no") == 0)
        *out = false;
    else
        return false;
    return true;
}

static bool parse_enum(const char *v, const char *const *names, size_t n, int *out)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && names[i][0] && strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    return false;
}

/* "arm64 x86_64", separated by spaces, tabs or commas; each at most once. */
static bool parse_archs(const char *v, unsigned *out)
{
    unsigned archs = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " \t,");
        unsigned bit = 0;
        if (n == 5 && strncmp(p, "arm64", 5) == 0)
            bit = SH_FX_ARCH_ARM64;
        else if (n == 6 && strncmp(p, "x86_64", 6) == 0)
            bit = SH_FX_ARCH_X86_64;
        if (bit == 0 || (archs & bit))
            return false;
        archs |= bit;
        p += n;
    }
    *out = archs;
    return archs != 0;
}

/* ---- one key ---- */

typedef struct section {
    sh_fx_bundle *b;
    bool seen[K_COUNT];
} section;

static bool set_value(sh_fx_bundle *b, enum key_id k, const char *v)
{
    int e = 0;
    switch (k) {
    case K_CATEGORY:
        if (!parse_enum(v, category_names, COUNT(category_names), &e))
            return false;
        b->category = (sh_fx_category)e;
        return true;
    case K_PROVIDER:
        if (!parse_enum(v, provider_names, COUNT(provider_names), &e))
            return false;
        b->provider = (sh_fx_provider)e;
        return true;
    case K_VARIANT:
        if (!parse_enum(v, variant_names, COUNT(variant_names), &e))
            return false;
        b->variant = (sh_fx_variant)e;
        return true;
    case K_TEAM:
        if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
            return false;
        b->team = (unsigned)(v[0] - '0');
        return true;
    case K_IDENTITY:
        for (size_t i = 0; i < COUNT(identities); i++)
            if (strcmp(v, identities[i].name) == 0)
                return copy_bounded(b->identity, sizeof b->identity, v);
        return false;
    case K_APP_ID: return identifier_ok(v) && copy_bounded(b->app_id, sizeof b->app_id, v);
    case K_EXTENSION_ID:
        return identifier_ok(v) && copy_bounded(b->extension_id, sizeof b->extension_id, v);
    case K_APP_GROUP: return identifier_ok(v) && copy_bounded(b->app_group, sizeof b->app_group, v);
    case K_APP_NAME: return app_name_ok(v) && copy_bounded(b->app_name, sizeof b->app_name, v);
    case K_VERSION: return version_ok(v) && copy_bounded(b->version, sizeof b->version, v);
    case K_BUILD: return version_ok(v) && copy_bounded(b->build, sizeof b->build, v);
    case K_DESCRIPTION: return copy_bounded(b->description, sizeof b->description, v);
    case K_ARCHS: return parse_archs(v, &b->archs);
    case K_TIMESTAMP: return parse_yes_no(v, &b->timestamp);
    case K_RUNTIME: return parse_yes_no(v, &b->runtime);
    case K_SANDBOX: return parse_yes_no(v, &b->sandbox);
    case K_GET_TASK_ALLOW: return parse_yes_no(v, &b->get_task_allow);
    case K_NOTARIZED: return parse_yes_no(v, &b->notarized);
    case K_COUNT: break;
    }
    return false;
}

static sh_err key_value(section *s, const char *key, const char *value, const line_ctx *l)
{
    enum key_id k = K_COUNT;
    for (size_t i = 0; i < K_COUNT; i++)
        if (strcmp(key, key_names[i]) == 0)
            k = (enum key_id)i;
    if (k == K_COUNT)
        return fail(l, SH_E_FIXTURE_SPEC_UNKNOWN_KEY, "key");
    if (s->seen[k])
        return fail(l, SH_E_FIXTURE_SPEC_DUPLICATE_KEY, key_names[k]);
    if (!set_value(s->b, k, value))
        return fail(l, SH_E_FIXTURE_SPEC_BAD_VALUE, key_names[k]);
    s->seen[k] = true;
    return SH_E_OK;
}

/* ---- end of a section: requirements, consistency, defaults ---- */

/* dst = a + b + c when it fits SH_MAX_FIXTURE_ID and is a valid identifier. */
static bool join_id(char *dst, const char *a, const char *b, const char *c)
{
    char tmp[3 * SH_FX_ID_SIZE];
    int n = snprintf(tmp, sizeof tmp, "%s%s%s", a, b, c);
    return n > 0 && (size_t)n <= SH_MAX_FIXTURE_ID && identifier_ok(tmp) &&
           copy_bounded(dst, SH_FX_ID_SIZE, tmp);
}

/* "network-content-filter" -> "NetworkContentFilter". */
static void camel_case(const char *name, char *out, size_t size)
{
    size_t o = 0;
    bool upper = true;
    for (size_t i = 0; name[i] && o + 1 < size; i++) {
        char c = name[i];
        if (c == '-') {
            upper = true;
            continue;
        }
        out[o++] = (upper && c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
        upper = false;
    }
    out[o] = '\0';
}

static sh_err finish_section(section *s, const line_ctx *l)
{
    sh_fx_bundle *b = s->b;
    line_ctx at = *l; /* errors point at the section header */
    at.number = b->line;
    if (!s->seen[K_CATEGORY])
        return fail(&at, SH_E_FIXTURE_SPEC_MISSING_KEY, "category");
    if (!s->seen[K_VARIANT])
        return fail(&at, SH_E_FIXTURE_SPEC_MISSING_KEY, "variant");
    if (b->category == SH_FX_NETWORK && !s->seen[K_PROVIDER])
        return fail(&at, SH_E_FIXTURE_SPEC_MISSING_KEY, "provider");
    if (b->category != SH_FX_NETWORK && s->seen[K_PROVIDER])
        return fail(&at, SH_E_FIXTURE_SPEC_CONFLICT, "provider");

    if (s->seen[K_IDENTITY]) {
        for (size_t i = 0; i < COUNT(identities); i++) {
            if (strcmp(b->identity, identities[i].name) != 0)
                continue;
            if (identities[i].variant != b->variant ||
                (s->seen[K_TEAM] && identities[i].team != b->team))
                return fail(&at, SH_E_FIXTURE_SPEC_CONFLICT, "identity");
            b->team = identities[i].team;
        }
    } else {
        if (!s->seen[K_TEAM])
            b->team = 1;
        snprintf(b->identity, sizeof b->identity, "%s-team%u",
                 b->variant == SH_FX_DEVELOPER_ID ? "devid" : "dev", b->team);
    }

    bool devid = b->variant == SH_FX_DEVELOPER_ID;
    if (!s->seen[K_TIMESTAMP])
        b->timestamp = devid;
    if (!s->seen[K_NOTARIZED])
        b->notarized = devid;
    if (!s->seen[K_GET_TASK_ALLOW])
        b->get_task_allow = !devid; /* Xcode injects it into Development builds */
    if (!s->seen[K_RUNTIME])
        b->runtime = true;
    if (!s->seen[K_ARCHS])
        b->archs = SH_FX_ARCH_ARM64 | SH_FX_ARCH_X86_64;
    if (!s->seen[K_APP_ID] && !join_id(b->app_id, "com.sigharness.", b->name, ""))
        return fail(&at, SH_E_FIXTURE_SPEC_BAD_VALUE, "app-id");
    if (!s->seen[K_EXTENSION_ID] &&
        !join_id(b->extension_id, b->app_id,
                 b->category == SH_FX_DRIVER ? ".driver" : ".extension", ""))
        return fail(&at, SH_E_FIXTURE_SPEC_BAD_VALUE, "extension-id");
    if (!s->seen[K_APP_GROUP] && !join_id(b->app_group, sh_fx_team_id(b->team), ".", b->app_id))
        return fail(&at, SH_E_FIXTURE_SPEC_BAD_VALUE, "app-group");
    if (strcmp(b->app_id, b->extension_id) == 0)
        return fail(&at, SH_E_FIXTURE_SPEC_CONFLICT, "extension-id");
    if (!s->seen[K_APP_NAME])
        camel_case(b->name, b->app_name, sizeof b->app_name);
    if (!s->seen[K_VERSION])
        memcpy(b->version, "1.0", 4);
    if (!s->seen[K_BUILD])
        memcpy(b->build, "1", 2);
    return SH_E_OK;
}

/* ---- lines ---- */

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* Reads one line (without its '\n' and an optional '\r' before it) into buf as a C string.
 * Every byte must be printable ASCII or a tab. */
static sh_err read_line(sh_cursor *c, char *buf, const line_ctx *l)
{
    size_t n = 0;
    uint8_t byte;
    while (sh_cursor_u8(c, &byte) && byte != '\n') {
        if (n == SH_MAX_FIXTURE_SPEC_LINE + 1) /* room for a trailing '\r' */
            return fail(l, SH_E_FIXTURE_SPEC_LINE_TOO_LONG, "line");
        buf[n++] = (char)byte;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n > SH_MAX_FIXTURE_SPEC_LINE)
        return fail(l, SH_E_FIXTURE_SPEC_LINE_TOO_LONG, "line");
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch != '\t' && (ch < 0x20 || ch > 0x7e))
            return sh_fail_value(l->err, SH_E_FIXTURE_SPEC_BAD_CHARACTER, "line",
                                 (int64_t)l->number, l->offset, ch);
    }
    return SH_E_OK;
}

/* Trims spaces and tabs at both ends, in place. */
static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static sh_err new_section(sh_fx_spec *spec, section *cur, const char *line, const line_ctx *l)
{
    size_t n = strlen(line);
    if (n < 2 || line[n - 1] != ']')
        return fail(l, SH_E_FIXTURE_SPEC_SYNTAX, "section header");
    const char *name = line + 1;
    size_t name_len = n - 2;
    if (!name_ok(name, name_len))
        return fail(l, SH_E_FIXTURE_SPEC_BAD_NAME, "section header");
    for (size_t i = 0; i < spec->count; i++)
        if (strlen(spec->bundles[i].name) == name_len &&
            memcmp(spec->bundles[i].name, name, name_len) == 0)
            return fail(l, SH_E_FIXTURE_SPEC_DUPLICATE_NAME, "section header");
    if (spec->count == SH_MAX_FIXTURE_BUNDLES)
        return fail(l, SH_E_FIXTURE_SPEC_TOO_MANY_BUNDLES, "section header");
    sh_fx_bundle *b = &spec->bundles[spec->count++];
    memset(b, 0, sizeof *b);
    memcpy(b->name, name, name_len);
    b->line = l->number;
    memset(cur, 0, sizeof *cur);
    cur->b = b;
    return SH_E_OK;
}

static sh_err pair(section *cur, char *line, const line_ctx *l)
{
    if (!cur->b)
        return fail(l, SH_E_FIXTURE_SPEC_OUTSIDE_SECTION, "key");
    size_t key_len = 0;
    while (line[key_len] && !is_space(line[key_len]))
        key_len++;
    if (line[key_len] == '\0')
        return fail(l, SH_E_FIXTURE_SPEC_SYNTAX, "key without value");
    line[key_len] = '\0';
    for (size_t i = 0; i < key_len; i++)
        if (!((line[i] >= 'a' && line[i] <= 'z') || line[i] == '-'))
            return fail(l, SH_E_FIXTURE_SPEC_SYNTAX, "key");
    return key_value(cur, line, trim(line + key_len + 1), l);
}

static sh_err parse_lines(sh_cursor *c, sh_fx_spec *spec, sh_error *err)
{
    char buf[SH_MAX_FIXTURE_SPEC_LINE + 2];
    section cur = {0};
    line_ctx l = {0, 0, err};
    while (sh_cursor_len(c) > 0) {
        l.number++;
        l.offset = sh_cursor_pos(c);
        sh_err e = read_line(c, buf, &l);
        if (e != SH_E_OK)
            return e;
        char *line = trim(buf);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            if (cur.b && (e = finish_section(&cur, &l)) != SH_E_OK)
                return e;
            e = new_section(spec, &cur, line, &l);
        } else {
            e = pair(&cur, line, &l);
        }
        if (e != SH_E_OK)
            return e;
    }
    if (!cur.b)
        return fail(&l, SH_E_FIXTURE_SPEC_EMPTY, "spec");
    return finish_section(&cur, &l);
}

sh_err sh_fx_spec_parse(const uint8_t *text, size_t len, const sh_allocator *alloc,
                        sh_fx_spec *out, sh_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = alloc;
    if (len > SH_MAX_FIXTURE_SPEC_SIZE)
        return sh_fail_value(err, SH_E_FIXTURE_SPEC_TOO_LARGE, "spec", -1, 0, len);
    if (!text && len > 0)
        return sh_fail(err, SH_E_FIXTURE_SPEC_EMPTY, "spec", -1, 0);
    out->bundles = sh_calloc(alloc, SH_MAX_FIXTURE_BUNDLES, sizeof *out->bundles);
    if (!out->bundles)
        return sh_fail(err, SH_E_NO_MEMORY, "fixture spec", -1, 0);
    sh_cursor c = sh_cursor_make(text, len);
    sh_err e = parse_lines(&c, out, err);
    if (e != SH_E_OK)
        sh_fx_spec_free(out);
    return e;
}

void sh_fx_spec_free(sh_fx_spec *s)
{
    sh_free(s->alloc, s->bundles);
    s->bundles = NULL;
    s->count = 0;
}

bool sh_fx_is_spec_error(sh_err e)
{
    switch (e) {
    case SH_E_FIXTURE_SPEC_TOO_LARGE:
    case SH_E_FIXTURE_SPEC_EMPTY:
    case SH_E_FIXTURE_SPEC_LINE_TOO_LONG:
    case SH_E_FIXTURE_SPEC_BAD_CHARACTER:
    case SH_E_FIXTURE_SPEC_SYNTAX:
    case SH_E_FIXTURE_SPEC_BAD_NAME:
    case SH_E_FIXTURE_SPEC_DUPLICATE_NAME:
    case SH_E_FIXTURE_SPEC_TOO_MANY_BUNDLES:
    case SH_E_FIXTURE_SPEC_OUTSIDE_SECTION:
    case SH_E_FIXTURE_SPEC_UNKNOWN_KEY:
    case SH_E_FIXTURE_SPEC_DUPLICATE_KEY:
    case SH_E_FIXTURE_SPEC_BAD_VALUE:
    case SH_E_FIXTURE_SPEC_MISSING_KEY:
    case SH_E_FIXTURE_SPEC_CONFLICT: return true;
    default: return false;
    }
}

int sh_fx_error_format(const sh_error *err, char *buf, size_t size)
{
    const char *where = err->where ? err->where : "spec";
    if (err->index > 0)
        return snprintf(buf, size, "spec line %lld: %s (%s)", (long long)err->index,
                        sh_err_message(err->code), where);
    return snprintf(buf, size, "spec: %s (%s)", sh_err_message(err->code), where);
}
