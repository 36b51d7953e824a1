/* Allocation-sweep drivers for the writers and the CLI commands (see sweep.h).  These entry
 * points take no allocator: only an SH_ALLOC_INJECT build makes their allocations fail. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coderesources_writer.h"
#include "inspect.h"
#include "macho_synth.h"
#include "pki.h"
#include "sign_cmd.h"
#include "signer.h"
#include "sweep.h"

#define SWEEP_SIGNING_TIME 1704067200 /* 2024-01-01 */
#define SWEEP_SIGNED_NAME "signed.bin"

int sweep_synth_thin(sweep *s)
{
    sh_synth_spec spec;
    sh_synth_spec_init(&spec, SH_SYNTH_ARM64, "com.example.sweep");
    sh_bytebuf out;
    sh_bytebuf_init(&out, s->a);
    sh_synth_layout layout;
    sh_write_error err;
    sh_write_status r = sh_synth_thin(&spec, &out, &layout, &err);
    if (r == SH_W_OK)
        sweep_mix(s, out.data, out.len);
    sh_bytebuf_free(&out);
    return (int)r;
}

int sweep_synth_fat(sweep *s)
{
    sh_synth_spec specs[2];
    sh_synth_spec_init(&specs[0], SH_SYNTH_X86_64, "com.example.sweep");
    sh_synth_spec_init(&specs[1], SH_SYNTH_ARM64, "com.example.sweep");
    sh_sig_params_dual_hash(&specs[1].sig);
    sh_bytebuf out;
    sh_bytebuf_init(&out, s->a);
    sh_write_error err;
    sh_write_status r = sh_synth_fat(specs, 2, &out, NULL, &err);
    if (r == SH_W_OK)
        sweep_mix(s, out.data, out.len);
    sh_bytebuf_free(&out);
    return (int)r;
}

int sweep_pki_load(sweep *s)
{
    sh_pki_identity id;
    sh_pki_tsa tsa;
    char why[SH_PKI_WHY_MAX];
    memset(&id, 0, sizeof id);
    memset(&tsa, 0, sizeof tsa);
    int r = 0;
    if (!sh_pki_load_identity(sh_pki_default_dir(), "devid-team1", &id, why, sizeof why))
        r = 1;
    else if (!sh_pki_load_tsa(sh_pki_default_dir(), &tsa, why, sizeof why))
        r = 2;
    else
        sweep_mix(s, id.team, strlen(id.team));
    sh_pki_identity_free(&id);
    sh_pki_tsa_free(&tsa);
    return r;
}

void sweep_sign_options(const sweep_inputs *in, sh_sign_options *o)
{
    sh_sign_options_init(o, "com.example.sweep");
    o->identity = &in->id;
    o->tsa = &in->tsa;
    o->entitlements = in->ent_xml.data;
    o->entitlements_len = in->ent_xml.len;
    o->runtime = true;
    o->dual_hash = true;
    o->force = true; /* the input is signed ad hoc (an unsigned one has no room reserved) */
    o->signing_time = SWEEP_SIGNING_TIME;
}

/* Developer ID, secure timestamp, hardened runtime, entitlements, SHA-1 + SHA-256: every blob
 * the signer writes.  (Loading the identity is the pki_load row's and sign_cmd's part.) */
int sweep_signer(sweep *s)
{
    sh_sign_options o;
    sweep_sign_options(s->in, &o);
    sh_bytebuf out;
    sh_bytebuf_init(&out, s->a);
    sh_sign_result res;
    int r = (int)sh_sign_macho(s->in->thin, s->in->thin_len, &o, &out, &res);
    if (r == SH_SIGN_OK)
        sweep_mix(s, out.data, out.len);
    sh_bytebuf_free(&out);
    return r;
}

int sweep_crw_write(sweep *s)
{
    static const uint8_t plist[] = "<plist/>", strings[] = "\"a\" = \"b\";";
    sh_crw_entry e[4];
    memset(e, 0, sizeof e);
    e[0] = (sh_crw_entry){.path = "Resources/Info.strings", .kind = SH_CRW_FILE, .data = strings,
                          .len = sizeof strings - 1};
    e[1] = (sh_crw_entry){.path = "Resources/en.lproj/x.plist", .kind = SH_CRW_FILE,
                          .data = plist, .len = sizeof plist - 1};
    e[2] = (sh_crw_entry){.path = "Resources/link", .kind = SH_CRW_SYMLINK, .target = "Info.strings"};
    e[3] = (sh_crw_entry){.path = "Helpers/x.app",
                          .kind = SH_CRW_NESTED,
                          .requirement = "identifier \"x\" and anchor apple generic"};
    sh_crw_options opt = {.files2_sha1 = true};
    sh_bytebuf out;
    sh_bytebuf_init(&out, s->a);
    sh_crw_error err;
    sh_write_status r = sh_crw_write(e, 4, &opt, s->a, &out, &err);
    if (r == SH_W_OK)
        sweep_mix(s, out.data, out.len);
    sh_bytebuf_free(&out);
    return (int)r;
}

int sweep_crw_walk(sweep *s)
{
    sh_crw_walk_options opt = {.main_executable = "MacOS/main"};
    sh_crw_list list;
    sh_crw_error err;
    sh_write_status r = sh_crw_walk(s->in->bundle_dir, &opt, s->a, &list, &err);
    if (r != SH_W_OK)
        return (int)r;
    sh_bytebuf out;
    sh_bytebuf_init(&out, s->a);
    r = sh_crw_write(list.items, list.count, &(sh_crw_options){0}, s->a, &out, &err);
    if (r == SH_W_OK)
        sweep_mix(s, out.data, out.len);
    sh_bytebuf_free(&out);
    sh_crw_list_free(&list);
    return (int)r;
}

/* Runs fn with stdout and stderr sent to /dev/null (the commands report every failure). */
static int quietly(int (*fn)(int, char **), int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int saved_out = dup(1), saved_err = dup(2);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
    }
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    if (saved_out >= 0)
        dup2(saved_out, 1);
    if (saved_err >= 0)
        dup2(saved_err, 2);
    if (null >= 0)
        close(null);
    if (saved_out >= 0)
        close(saved_out);
    if (saved_err >= 0)
        close(saved_err);
    return rc;
}

static bool read_whole(const char *path, sweep *s)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sweep_mix(s, buf, n);
    fclose(f);
    return true;
}

/* `sigharness sign ... -o DIR/signed.bin`: a failed run must leave neither the output nor the
 * temporary file write_atomic makes beside it (the sweep checks the directory). */
int sweep_sign_cmd(sweep *s)
{
    char out[320];
    snprintf(out, sizeof out, "%s/%s", s->in->dir, SWEEP_SIGNED_NAME);
    const char *args[] = {"--sign", "devid-team1", "--identifier", "com.example.sweep",
                          "--entitlements", s->in->ents_path, "--options", "runtime",
                          "--digest-algorithm=sha1,sha256", "--signing-time", "1704067200",
                          "--force", "-o", out, s->in->thin_path};
    char *argv[sizeof args / sizeof args[0]];
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        argv[i] = (char *)(uintptr_t)args[i];
    int rc = quietly(sh_sign_command, (int)(sizeof args / sizeof args[0]), argv);
    if (rc == 0 && !read_whole(out, s))
        rc = 100;
    return rc;
}

/* inspect, both renderings, of a binary signed with everything (CMS chained to the test root,
 * timestamp, requirements, both entitlement forms) and of the fat ad hoc sample. */
static int inspect_one(sweep *s, const char *path)
{
    sh_cursor root = sh_cursor_make(s->in->root_der.data, s->in->root_der.len);
    sh_inspect_options opt = {.requirements = true, .entitlements = true, .now = 1735689600,
                              .trust = {.anchor_der = &root, .n_anchor_der = 1}};
    sh_inspection in;
    sh_inspect_file(path, &opt, &in);
    int rc = in.exit_code;
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        sh_inspection_print_text(&in, &opt, null);
        sh_inspection_print_json(&in, null);
        fclose(null);
    }
    sweep_mix_u64(s, (uint64_t)in.exit_code);
    sweep_mix_u64(s, in.macho.nslices);
    for (uint32_t i = 0; in.slices && i < in.macho.nslices; i++) {
        sweep_mix_u64(s, (uint64_t)in.slices[i].signature_result);
        sweep_mix_u64(s, (uint64_t)in.slices[i].cms_result);
        sweep_mix_u64(s, (uint64_t)in.slices[i].requirements_result);
        sweep_mix_u64(s, (uint64_t)in.slices[i].entitlements.result);
    }
    sh_inspection_free(&in);
    return rc;
}

int sweep_inspect(sweep *s)
{
    char fat[320];
    snprintf(fat, sizeof fat, "%s/fat.bin", s->in->dir);
    int rc = inspect_one(s, s->in->devid_path);
    return rc != 0 ? rc : inspect_one(s, fat);
}

static bool is_input(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "thin.bin") == 0 ||
           strcmp(name, "fat.bin") == 0 || strcmp(name, "ents.plist") == 0 ||
           strcmp(name, "bundle") == 0 || strcmp(name, "devid.bin") == 0;
}

bool sweep_dir_has_output(const sweep_inputs *in)
{
    DIR *d = opendir(in->dir);
    if (!d)
        return true;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = !is_input(e->d_name);
    closedir(d);
    return found;
}

void sweep_dir_clean_output(const sweep_inputs *in)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", in->dir, SWEEP_SIGNED_NAME);
    unlink(path);
}
