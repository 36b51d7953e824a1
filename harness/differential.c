/* Differential mode: another tool judges the broken-bundle set (differential.h). */
#include "differential.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_write.h"
#include "json.h"
#include "pki.h"
#include "readfile.h"
#include "tool_run.h"

sh_tool_expectation sh_tool_expect(sh_adapter_level level, const sh_regress_result *r)
{
    const sh_expectation *e = &r->expected;
    sh_tool_expectation t = {true, 0};
    switch (level) {
    case SH_ADAPTER_LEVEL_STATIC:
        t.accept = e->static_errsec == 0;
        t.code = e->static_errsec;
        break;
    case SH_ADAPTER_LEVEL_GATEKEEPER:
        t.accept = e->static_errsec == 0 && r->observed.notarized &&
                   !strcmp(r->policy, "distribution");
        t.code = e->static_errsec;
        break;
    case SH_ADAPTER_LEVEL_NOTARY:
        t.accept = e->notary == NULL && !strcmp(r->policy, "distribution");
        break;
    case SH_ADAPTER_LEVEL_ACTIVATION:
        t.accept = e->sysext == 0 && !e->app_killed;
        t.code = e->errsec;
        break;
    }
    return t;
}

/* One fixture to run the tool on. */
typedef struct tool_case {
    sh_regress_result result;
    char app_path[1024];
    char env_text[6][1200];
    const char *env[7];
    sh_tool_run run;
    sh_tool_answer answer;
    bool disagrees;
    char why[200];
} tool_case;

typedef struct diff_state {
    const sh_case_set *set;
    const char *results;
    const char *self;
    const char *root_der;
    tool_case *cases;
    size_t count, cap;
    char why[256];
    FILE *progress;
    /* running */
    const sh_adapter *adapter;
    pthread_mutex_t lock;
    size_t next, done;
} diff_state;

static bool make_dir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

static void set_env(tool_case *tc, size_t i, const char *name, const char *value)
{
    snprintf(tc->env_text[i], sizeof tc->env_text[i], "%s=%s", name, value);
}

/* Judges the case with our engine (the expectation and the notarisation it was judged with),
 * then writes the fixture and its notary list under results/fixtures/<case>/. */
static bool add_case(void *arg, const sh_case *c)
{
    diff_state *s = arg;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        tool_case *grown = realloc(s->cases, cap * sizeof *grown);
        if (!grown)
            return false;
        s->cases = grown;
        s->cap = cap;
    }
    tool_case *tc = &s->cases[s->count];
    memset(tc, 0, sizeof *tc);
    if (!sh_regress_judge(s->set, c, &tc->result, s->why, sizeof s->why))
        return false;
    s->count++;
    char dir[1024], list[1100];
    int n1 = snprintf(dir, sizeof dir, "%s/fixtures/%s", s->results, c->name);
    int n2 = snprintf(tc->app_path, sizeof tc->app_path, "%s/%s", dir, c->base->app_dir);
    int n3 = snprintf(list, sizeof list, "%s/notarized.txt", dir);
    if (n1 < 0 || (size_t)n1 >= sizeof dir || n2 < 0 || (size_t)n2 >= sizeof tc->app_path ||
        n3 < 0 || (size_t)n3 >= sizeof list) {
        snprintf(s->why, sizeof s->why, "the results folder path is too long");
        return false;
    }
    char why[256];
    if (!make_dir(dir) ||
        sh_bundle_write_dir(c->bundle, tc->app_path, true, why, sizeof why) != SH_DISK_OK ||
        sh_write_file_atomic(list, (const uint8_t *)tc->result.notary_list,
                             strlen(tc->result.notary_list), true, why, sizeof why) != SH_DISK_OK) {
        snprintf(s->why, sizeof s->why, "%.100s: %.140s", dir, why);
        return false;
    }
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)SH_REGRESS_NOW);
    set_env(tc, 0, "SIGHARNESS", s->self);
    set_env(tc, 1, "SIGHARNESS_POLICY", tc->result.policy);
    set_env(tc, 2, "SIGHARNESS_ROOT", s->root_der);
    set_env(tc, 3, "SIGHARNESS_NOTARIZED", list);
    set_env(tc, 4, "SIGHARNESS_NOW", now);
    set_env(tc, 5, "SIGHARNESS_LOCATION",
            c->effects.location[0] ? c->effects.location : "/Applications");
    if (s->progress)
        fprintf(s->progress, "\rwriting [%zu] %-80.80s", s->count, c->name);
    return true;
}

static void *worker(void *arg)
{
    diff_state *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        size_t i = s->next++;
        pthread_mutex_unlock(&s->lock);
        if (i >= s->count)
            return NULL;
        tool_case *tc = &s->cases[i];
        /* Pointers into the case are taken only now: the array moved while it grew. */
        for (size_t k = 0; k < 6; k++)
            tc->env[k] = tc->env_text[k];
        tc->env[6] = NULL;
        sh_tool_run_command(s->adapter->command, tc->app_path, tc->env, s->adapter->timeout,
                            &tc->run);
        pthread_mutex_lock(&s->lock);
        s->done++;
        if (s->progress)
            fprintf(s->progress, "\rrunning [%zu/%zu] %-70.70s", s->done, s->count,
                    tc->result.name);
        pthread_mutex_unlock(&s->lock);
    }
}

static bool load_adapter(const sh_tool_options *t, sh_adapter *a, char *why, size_t why_size)
{
    if (t->command) {
        char text[SH_MAX_ADAPTER_LINE + 128];
        snprintf(text, sizeof text, "name command\nlevel activation\ncommand %s\n", t->command);
        return sh_adapter_parse(text, strlen(text), a, why, why_size);
    }
    char path[4096];
    if (t->tool)
        snprintf(path, sizeof path, "%s/%s.adapter", SH_ADAPTER_DIR, t->tool);
    else
        snprintf(path, sizeof path, "%s", t->adapter_file);
    uint8_t *data = NULL;
    size_t len = 0;
    const char *read_why = NULL;
    if (sh_read_file(path, &data, &len, &read_why) != SH_E_OK) {
        snprintf(why, why_size, "%.200s: %s", path, read_why ? read_why : "cannot read");
        return false;
    }
    char msg[SH_ADAPTER_WHY_MAX];
    bool ok = sh_adapter_parse((const char *)data, len, a, msg, sizeof msg);
    if (!ok)
        snprintf(why, why_size, "%.100s: %.190s", path, msg);
    free(data);
    return ok;
}

static void judge_all(diff_state *s, size_t *disagreements, size_t *crashes)
{
    *disagreements = *crashes = 0;
    for (size_t i = 0; i < s->count; i++) {
        tool_case *tc = &s->cases[i];
        if (!tc->run.started) {
            tc->answer.outcome = SH_TOOL_NOT_RUN;
            snprintf(tc->why, sizeof tc->why, "not run: %s", tc->run.why);
            tc->disagrees = true;
            (*disagreements)++;
            continue;
        }
        sh_adapter_judge(s->adapter, tc->run.exited, tc->run.status, tc->run.timed_out,
                         tc->run.output, &tc->answer);
        sh_tool_expectation want = sh_tool_expect(s->adapter->level, &tc->result);
        if (tc->answer.outcome == SH_TOOL_CRASHED || tc->answer.outcome == SH_TOOL_TIMED_OUT) {
            snprintf(tc->why, sizeof tc->why, "the tool %s%s",
                     sh_tool_outcome_name(tc->answer.outcome),
                     tc->answer.outcome == SH_TOOL_CRASHED ? " (a bug in the tool)" : "");
            tc->disagrees = true;
            (*crashes)++;
        } else if (want.accept != (tc->answer.outcome == SH_TOOL_ACCEPTED)) {
            snprintf(tc->why, sizeof tc->why, "expected %s, the tool %s",
                     want.accept ? "accept" : "reject", sh_tool_outcome_name(tc->answer.outcome));
            tc->disagrees = true;
        } else if (!want.accept && want.code && tc->answer.code && want.code != tc->answer.code) {
            snprintf(tc->why, sizeof tc->why, "both reject; expected status %d, the tool said %d",
                     want.code, tc->answer.code);
            tc->disagrees = true;
        }
        *disagreements += tc->disagrees;
    }
}

/* The first line of the output that is not empty, for the table. */
static void excerpt(const char *output, char *buf, size_t size)
{
    const char *p = output ? output : "";
    while (*p == '\n')
        p++;
    size_t n = strcspn(p, "\n");
    snprintf(buf, size, "%.*s", (int)(n < size - 1 ? n : size - 1), p);
}

static void print_text(const diff_state *s, size_t disagreements, size_t crashes, FILE *out)
{
    fprintf(out, "%-64s  %-9s  %-10s  %s\n", "fixture", "expected", "tool said", "output");
    for (size_t i = 0; i < s->count; i++) {
        const tool_case *tc = &s->cases[i];
        if (!tc->disagrees)
            continue;
        sh_tool_expectation want = sh_tool_expect(s->adapter->level, &tc->result);
        char first[80];
        excerpt(tc->run.output, first, sizeof first);
        fprintf(out, "%-64s  %-9s  %-10s  %s\n      %s\n", tc->result.name,
                want.accept ? "accept" : "reject", sh_tool_outcome_name(tc->answer.outcome), first,
                tc->why);
    }
    fprintf(out, "\n%s (level %s): %zu fixtures, %zu disagreements (%zu crashes or timeouts); "
                 "outputs in %s/outputs\n",
            s->adapter->name, sh_adapter_level_name(s->adapter->level), s->count, disagreements,
            crashes, s->results);
}

static void print_json(const diff_state *s, size_t disagreements, FILE *out)
{
    sh_json j;
    sh_json_init(&j, out);
    sh_json_object_begin(&j);
    sh_json_kv_string(&j, "schema", "sigharness.differential/1");
    sh_json_kv_string(&j, "tool", s->adapter->name);
    sh_json_kv_string(&j, "level", sh_adapter_level_name(s->adapter->level));
    sh_json_kv_uint(&j, "fixtures", s->count);
    sh_json_kv_uint(&j, "disagreements", disagreements);
    sh_json_key(&j, "results");
    sh_json_array_begin(&j);
    for (size_t i = 0; i < s->count; i++) {
        const tool_case *tc = &s->cases[i];
        sh_tool_expectation want = sh_tool_expect(s->adapter->level, &tc->result);
        char first[200];
        excerpt(tc->run.output, first, sizeof first);
        sh_json_object_begin(&j);
        sh_json_kv_string(&j, "fixture", tc->result.name);
        sh_json_kv_string(&j, "bundle", tc->app_path);
        sh_json_kv_bool(&j, "expected_accept", want.accept);
        sh_json_kv_int(&j, "expected_code", want.code);
        sh_json_kv_string(&j, "tool_said", sh_tool_outcome_name(tc->answer.outcome));
        sh_json_kv_int(&j, "tool_code", tc->answer.code);
        sh_json_kv_int(&j, tc->run.exited ? "exit" : "signal", tc->run.status);
        sh_json_kv_bool(&j, "disagrees", tc->disagrees);
        sh_json_kv_string(&j, "why", tc->why);
        sh_json_kv_string(&j, "output", first);
        sh_json_object_end(&j);
    }
    sh_json_array_end(&j);
    sh_json_object_end(&j);
    fputc('\n', out);
}

static bool write_outputs(const diff_state *s)
{
    for (size_t i = 0; i < s->count; i++) {
        const tool_case *tc = &s->cases[i];
        char path[1024], why[256];
        snprintf(path, sizeof path, "%s/outputs/%s.txt", s->results, tc->result.name);
        const char *text = tc->run.output ? tc->run.output : tc->run.why;
        if (sh_write_file_atomic(path, (const uint8_t *)text, strlen(text), true, why,
                                 sizeof why) != SH_DISK_OK)
            return false;
    }
    return true;
}

static void print_junit(const diff_state *s, FILE *out)
{
    size_t failures = 0;
    for (size_t i = 0; i < s->count; i++)
        failures += s->cases[i].disagrees;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                 "  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\">\n",
            s->adapter->name, s->count, failures);
    for (size_t i = 0; i < s->count; i++) {
        const tool_case *tc = &s->cases[i];
        fprintf(out, "    <testcase classname=\"%s\" name=\"%s\"", s->adapter->name,
                tc->result.name);
        if (!tc->disagrees) {
            fputs("/>\n", out);
            continue;
        }
        fputs("><failure message=\"", out);
        for (const char *p = tc->why; *p; p++)
            if (*p == '"' || *p == '<' || *p == '&')
                fprintf(out, "&#%d;", *p);
            else
                fputc(*p, out);
        fputs("\"/></testcase>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
}

static int finish(diff_state *s, bool json, const char *junit, int rc)
{
    for (size_t i = 0; i < s->count; i++) {
        sh_tool_run_free(&s->cases[i].run);
        free(s->cases[i].result.notary_list);
    }
    free(s->cases);
    if (rc == 3 && s->why[0])
        fprintf(stderr, "sigharness regress: %s\n", s->why);
    (void)json;
    (void)junit;
    return rc;
}

int sh_differential_run(const sh_case_filter *f, const sh_tool_options *t, bool json,
                        const char *junit, FILE *progress)
{
    sh_adapter adapter;
    char why[320];
    if (!load_adapter(t, &adapter, why, sizeof why)) {
        fprintf(stderr, "sigharness regress: adapter %s\n", why);
        return 2;
    }
    diff_state s;
    memset(&s, 0, sizeof s);
    s.results = t->results_dir ? t->results_dir : "sigharness-results";
    s.progress = progress;
    s.adapter = &adapter;
    char self[1024] = "sigharness", root[4096], sub[1100];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = '\0';
    snprintf(root, sizeof root, "%s/root.cert.der", f->pki_dir ? f->pki_dir : sh_pki_default_dir());
    s.self = self;
    s.root_der = root;
    bool dirs = make_dir(s.results);
    snprintf(sub, sizeof sub, "%s/fixtures", s.results);
    dirs = dirs && make_dir(sub);
    snprintf(sub, sizeof sub, "%s/outputs", s.results);
    dirs = dirs && make_dir(sub);
    sh_case_set set;
    if (!dirs || !sh_case_set_build(f, &set, s.why, sizeof s.why)) {
        if (!dirs)
            snprintf(s.why, sizeof s.why, "%s: cannot create the results folder", s.results);
        sh_adapter_free(&adapter);
        return finish(&s, json, junit, 3);
    }
    s.set = &set;
    bool ok = sh_case_set_each(&set, f, add_case, &s, why, sizeof why);
    sh_case_set_free(&set);
    if (!ok) {
        if (!s.why[0])
            snprintf(s.why, sizeof s.why, "%.250s", why);
        sh_adapter_free(&adapter);
        return finish(&s, json, junit, 3);
    }
    pthread_mutex_init(&s.lock, NULL);
    int jobs = t->jobs < 1 ? 1 : t->jobs;
    pthread_t threads[64];
    int started = 0;
    for (; started < jobs && started < 64; started++)
        if (pthread_create(&threads[started], NULL, worker, &s) != 0)
            break;
    if (started == 0)
        worker(&s);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&s.lock);
    if (progress)
        fprintf(progress, "\r%-100s\r", "");
    size_t disagreements, crashes;
    judge_all(&s, &disagreements, &crashes);
    int rc = disagreements ? 1 : 0;
    if (!write_outputs(&s)) {
        snprintf(s.why, sizeof s.why, "%s/outputs: cannot write the tool outputs", s.results);
        rc = 3;
    }
    if (json)
        print_json(&s, disagreements, stdout);
    else
        print_text(&s, disagreements, crashes, stdout);
    if (junit) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (mem) {
            print_junit(&s, mem);
            fclose(mem);
            if (sh_write_file_atomic(junit, (const uint8_t *)buf, len, true, why, sizeof why) !=
                SH_DISK_OK) {
                snprintf(s.why, sizeof s.why, "%.100s: %.140s", junit, why);
                rc = 3;
            }
            free(buf);
        }
    }
    sh_adapter_free(&adapter);
    return finish(&s, json, junit, rc);
}
