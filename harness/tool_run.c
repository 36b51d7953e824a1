/* Running an external tool with a timeout (tool_run.h). */
#include "tool_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* "{bundle}" -> "\"$1\"" everywhere; NULL when the result would not fit. */
static char *rewrite_template(const char *template)
{
    static const char placeholder[] = "{bundle}";
    static const char quoted[] = "\"$1\"";
    size_t count = 0;
    for (const char *p = strstr(template, placeholder); p; p = strstr(p + 1, placeholder))
        count++;
    size_t len = strlen(template);
    if (len > 65536 || count > 64)
        return NULL;
    char *out = malloc(len + count * sizeof quoted + 1);
    if (!out)
        return NULL;
    char *w = out;
    for (const char *p = template; *p;) {
        if (!strncmp(p, placeholder, sizeof placeholder - 1)) {
            memcpy(w, quoted, sizeof quoted - 1);
            w += sizeof quoted - 1;
            p += sizeof placeholder - 1;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool append_output(sh_tool_run *out, const char *buf, size_t n)
{
    size_t room = SH_TOOL_OUTPUT_MAX - out->output_len;
    size_t take = n < room ? n : room;
    memcpy(out->output + out->output_len, buf, take);
    out->output_len += take;
    out->dropped += n - take;
    return true;
}

extern char **environ;

static bool is_crash_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGABRT || sig == SIGFPE ||
           sig == SIGTRAP || sig == SIGSYS;
}

/* environ plus extra, built before fork (the child may only call async-signal-safe functions). */
static char **make_env(const char *const *extra)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    char **env = calloc(n + m + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        env[k++] = (char *)extra[i];
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name_len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool overridden = false;
        for (size_t x = 0; x < m && !overridden; x++)
            overridden = strncmp(extra[x], environ[i], name_len) == 0;
        if (!overridden)
            env[k++] = environ[i];
    }
    return env;
}

static void child(int write_fd, const char *script, const char *path, char **env)
{
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    dup2(write_fd, STDOUT_FILENO);
    dup2(write_fd, STDERR_FILENO);
    close(write_fd);
    char *const argv[] = {"sh", "-c", (char *)script, "sh", (char *)path, NULL};
    execve("/bin/sh", argv, env);
    _exit(127);
}

/* Reads until EOF or the deadline; true when the deadline passed. */
static bool collect(int fd, int64_t deadline, sh_tool_run *out)
{
    char buf[8192];
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return true;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (rc < 0 && errno != EINTR)
            return false;
        if (rc <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        append_output(out, buf, (size_t)n);
    }
}

void sh_tool_run_command(const char *template, const char *path, const char *const *extra_env,
                         unsigned timeout_seconds, sh_tool_run *out)
{
    memset(out, 0, sizeof *out);
    char *script = rewrite_template(template);
    char **env = make_env(extra_env);
    out->output = malloc(SH_TOOL_OUTPUT_MAX + 1);
    int fds[2] = {-1, -1};
    if (!script || !env || !out->output || pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(out->why, sizeof out->why, "cannot prepare the command: %s", strerror(errno));
        goto done;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->why, sizeof out->why, "fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], script, path, env);
    }
    setpgid(pid, pid); /* also in the parent, so the kill below cannot race the child's own */
    close(fds[1]);
    fds[1] = -1;
    out->started = true;
    int64_t deadline = now_ms() + (int64_t)timeout_seconds * 1000;
    out->timed_out = collect(fds[0], deadline, out);
    if (out->timed_out)
        kill(-pid, SIGKILL);
    int wstatus = 0;
    for (;;) { /* the output may end before the process does */
        pid_t done = waitpid(pid, &wstatus, out->timed_out ? 0 : WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR))
            break;
        if (done == 0 && now_ms() >= deadline) {
            out->timed_out = true;
            kill(-pid, SIGKILL);
        } else if (done == 0) {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (out->timed_out)
            kill(-pid, SIGKILL);
    }
    /* Descendants that kept the pipe open die with the group. */
    kill(-pid, SIGKILL);
    out->exited = WIFEXITED(wstatus);
    out->status = out->exited ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus);
    /* The tool runs under /bin/sh, which reports a child killed by signal N as exit 128 + N:
     * a crash signal there is the tool's crash. */
    if (out->exited && out->status > 128 && is_crash_signal(out->status - 128)) {
        out->exited = false;
        out->status -= 128;
    }
done:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    free(script);
    free(env);
    if (out->output)
        out->output[out->output_len] = '\0';
    if (!out->started) {
        free(out->output);
        out->output = NULL;
    }
}

void sh_tool_run_free(sh_tool_run *r)
{
    free(r->output);
    r->output = NULL;
}
