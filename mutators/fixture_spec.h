/* Declarative fixture spec: which app + system-extension bundles the fixture builder makes
 * (format in docs/fixture-spec.md).
 *
 *   # comment
 *   [network-content-filter-devid]      one bundle per section; name [a-z0-9-]
 *   category  network                   network | endpoint-security | driver | camera
 *   provider  content-filter            network only: content-filter | packet-tunnel |
 *                                       app-proxy | dns-proxy
 *   variant   developer-id              developer-id | development
 *
 * The text is untrusted (specs come from users and from the fuzzer): it is read through the
 * cursor, every size is bounded by a named limit (SH_MAX_FIXTURE_*), and every failure is one
 * FIXTURE_SPEC_* error with err->index = the 1-based line number, err->offset = the byte offset
 * of that line and err->where = the key or construct at fault.  Unknown keys are errors, not
 * ignored, so a typo never silently builds a different bundle.  Keys left out get defaults that
 * depend on category, variant and team (filled in when a section ends; see the doc). */
#ifndef SH_FIXTURE_SPEC_H
#define SH_FIXTURE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "errors.h"
#include "sh_limits.h"

typedef enum sh_fx_category {
    SH_FX_NETWORK = 1,
    SH_FX_ENDPOINT_SECURITY,
    SH_FX_DRIVER,
    SH_FX_CAMERA,
} sh_fx_category;

typedef enum sh_fx_provider {
    SH_FX_PROVIDER_NONE = 0,
    SH_FX_CONTENT_FILTER,
    SH_FX_PACKET_TUNNEL,
    SH_FX_APP_PROXY,
    SH_FX_DNS_PROXY,
} sh_fx_provider;

typedef enum sh_fx_variant {
    SH_FX_DEVELOPER_ID = 1, /* distribution outside the App Store: Developer ID, notarised */
    SH_FX_DEVELOPMENT,      /* Xcode debug build: Apple Development, device list */
} sh_fx_variant;

#define SH_FX_ARCH_ARM64 1u
#define SH_FX_ARCH_X86_64 2u

/* Buffer sizes: the limit plus the NUL. */
#define SH_FX_NAME_SIZE (SH_MAX_FIXTURE_NAME + 1)
#define SH_FX_ID_SIZE (SH_MAX_FIXTURE_ID + 1)
#define SH_FX_TEXT_SIZE (SH_MAX_FIXTURE_TEXT + 1)

typedef struct sh_fx_bundle {
    char name[SH_FX_NAME_SIZE];          /* section name: the output folder */
    uint32_t line;                       /* line of the [name] header */
    sh_fx_category category;
    sh_fx_provider provider;             /* network only */
    sh_fx_variant variant;
    unsigned team;                       /* 1 or 2: corpus/pki SHTEAM0001 / SHTEAM0002 */
    char identity[SH_FX_NAME_SIZE];      /* corpus/pki base: devid-team1, dev-team2, ... */
    char app_id[SH_FX_ID_SIZE];          /* com.sigharness.<name> */
    char extension_id[SH_FX_ID_SIZE];    /* <app-id>.extension */
    char app_group[SH_FX_ID_SIZE];       /* <TEAM>.<app-id> */
    char app_name[SH_FX_TEXT_SIZE];      /* the .app's base name and executable */
    char version[SH_FX_NAME_SIZE];       /* CFBundleShortVersionString */
    char build[SH_FX_NAME_SIZE];         /* CFBundleVersion */
    char description[SH_FX_TEXT_SIZE];   /* one line for the manifest ("" -> generated) */
    unsigned archs;                      /* SH_FX_ARCH_* bits, in the order arm64, x86_64 */
    bool timestamp, runtime, sandbox, get_task_allow, notarized;
} sh_fx_bundle;

typedef struct sh_fx_spec {
    sh_fx_bundle *bundles; /* in spec order */
    size_t count;
    const sh_allocator *alloc;
} sh_fx_spec;

/* Parses text (need not be NUL-terminated).  *out is initialised here and empty on failure;
 * free it with sh_fx_spec_free whatever the result. */
sh_err sh_fx_spec_parse(const uint8_t *text, size_t len, const sh_allocator *alloc,
                        sh_fx_spec *out, sh_error *err);
void sh_fx_spec_free(sh_fx_spec *s);
/* True for the FIXTURE_SPEC_* errors (the spec text is at fault). */
bool sh_fx_is_spec_error(sh_err e);

/* "spec line 12: <message> (key 'provider')".  Always NUL-terminates; returns what snprintf
 * returns. */
int sh_fx_error_format(const sh_error *err, char *buf, size_t size);

/* The base catalogue (fixture_builtin.c): every category and NE provider, each as a Developer ID
 * and a Development variant. */
extern const char sh_fx_builtin_spec[];

const char *sh_fx_category_name(sh_fx_category c); /* "network", "endpoint-security", ... */
const char *sh_fx_provider_name(sh_fx_provider p); /* "content-filter", ...; "" for none */
const char *sh_fx_variant_name(sh_fx_variant v);   /* "developer-id", "development" */
/* The verdict-engine policy the bundle is valid under: "distribution" / "development". */
const char *sh_fx_variant_policy(sh_fx_variant v);
/* "SHTEAM0001" / "SHTEAM0002". */
const char *sh_fx_team_id(unsigned team);

#endif
