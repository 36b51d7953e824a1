/* The rules table (rules.def) as data, and the names of the codes it maps to. */
#include <string.h>

#include "verdict.h"

#define FROM_ERROR SH_ERRSEC_FROM_ERROR

static const sh_rule rules[SH_RULE_COUNT] = {
#define X(id, stage, sysext, errsec, kills, conf, src, cause, fix, log)                            \
    [SH_RULE_##id] = {#id, SH_STAGE_##stage, sysext, errsec, kills, conf, src, cause, fix, log},
#include "rules.def"
#undef X
};

const sh_rule *sh_rule_get(sh_rule_id id)
{
    return (unsigned)id < SH_RULE_COUNT ? &rules[id] : NULL;
}

const sh_rule *sh_rule_find(const char *name, sh_rule_id *id)
{
    for (size_t i = 0; i < SH_RULE_COUNT; i++)
        if (strcmp(rules[i].name, name) == 0) {
            if (id)
                *id = (sh_rule_id)i;
            return &rules[i];
        }
    return NULL;
}

const char *sh_stage_name(sh_stage s)
{
    switch (s) {
    case SH_STAGE_REQUEST: return "request";
    case SH_STAGE_DISCOVERY: return "discovery";
    case SH_STAGE_STATIC: return "static";
    case SH_STAGE_ENTITLEMENTS: return "entitlements";
    case SH_STAGE_NOTARIZATION: return "notarization";
    case SH_STAGE_LAUNCH: return "launch";
    }
    return "unknown";
}

const char *sh_policy_name(sh_policy p)
{
    return p == SH_POLICY_DEVELOPMENT ? "development" : "distribution";
}

/* OSSystemExtensionErrorCode (SystemExtensions.h; reference section 8a, H). */
static const struct {
    const char *name, *meaning;
} sysext_codes[] = {
    [1] = {"OSSystemExtensionErrorCodeUnknown", "an error sysextd does not classify"},
    [2] = {"OSSystemExtensionErrorCodeMissingEntitlement",
           "the requesting app lacks com.apple.developer.system-extension.install"},
    [3] = {"OSSystemExtensionErrorCodeUnsupportedParentBundleLocation",
           "the app is not in /Applications (and developer mode is off)"},
    [4] = {"OSSystemExtensionErrorCodeExtensionNotFound",
           "no extension with the requested identifier in Contents/Library/SystemExtensions"},
    [5] = {"OSSystemExtensionErrorCodeExtensionMissingIdentifier",
           "the extension's Info.plist has no CFBundleIdentifier"},
    [6] = {"OSSystemExtensionErrorCodeDuplicateExtensionIdentifer",
           "two extensions share a bundle identifier (Apple's spelling)"},
    [7] = {"OSSystemExtensionErrorCodeUnknownExtensionCategory",
           "the extension declares no category sysextd knows"},
    [8] = {"OSSystemExtensionErrorCodeCodeSignatureInvalid",
           "the extension's code signature, entitlements or notarisation failed validation "
           "(\"Invalid code signature or missing entitlements\")"},
    [9] = {"OSSystemExtensionErrorCodeValidationFailed",
           "the category's own validation failed (\"extension category returned error\")"},
    [10] = {"OSSystemExtensionErrorCodeForbiddenBySystemPolicy",
            "a system policy (MDM) forbids the extension"},
    [11] = {"OSSystemExtensionErrorCodeRequestCanceled",
            "the delegate cancelled the replacement of an installed extension"},
    [12] = {"OSSystemExtensionErrorCodeRequestSuperseded",
            "a newer request for the same extension replaced this one"},
    [13] = {"OSSystemExtensionErrorCodeAuthorizationRequired",
            "the user must authorise the operation"},
};

const char *sh_sysext_error_name(int code)
{
    if (code < 1 || code > 13)
        return NULL;
    return sysext_codes[code].name;
}

const char *sh_sysext_error_meaning(int code)
{
    if (code < 1 || code > 13)
        return NULL;
    return sysext_codes[code].meaning;
}

void sh_verdict_options_init(sh_verdict_options *o)
{
    memset(o, 0, sizeof *o);
    o->policy = SH_POLICY_DISTRIBUTION;
}
