#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_inject.h"
#include "sh_limits.h"

static sh_err fail(int fd, uint8_t *buf, sh_err code, const char **why, const char *reason)
{
    if (fd >= 0)
        close(fd);
    free(buf);
    *why = reason;
    return code;
}

sh_err sh_read_file(const char *path, uint8_t **data, size_t *size, const char **why)
{
    *data = NULL;
    *size = 0;
    /* O_NONBLOCK so that opening a FIFO does not hang; O_NOFOLLOW is not used: a user may
     * legitimately point at a symlink on the command line. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(-1, NULL, SH_E_IO, why, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(fd, NULL, SH_E_IO, why, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(fd, NULL, SH_E_IO, why, "not a regular file");
    if (st.st_size < 0 || (uint64_t)st.st_size > SH_MAX_INPUT_SIZE)
        return fail(fd, NULL, SH_E_INPUT_TOO_LARGE, why, "file is larger than SH_MAX_INPUT_SIZE");
    size_t want = (size_t)st.st_size;
#ifdef SH_ALLOC_INJECT
    /* counted as one allocation of the failure-injection sequence; still malloc'ed, as callers
     * free() it */
    uint8_t *buf = sh_alloc_inject_take(want) ? NULL : malloc(want ? want : 1);
#else
    uint8_t *buf = malloc(want ? want : 1);
#endif
    if (!buf)
        return fail(fd, NULL, SH_E_NO_MEMORY, why, "out of memory");
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(fd, buf, SH_E_IO, why, strerror(errno));
        if (n == 0)
            return fail(fd, buf, SH_E_IO, why, "file shrank while being read");
        got += (size_t)n;
    }
    close(fd);
    *data = buf;
    *size = want;
    return SH_E_OK;
}
