/* Process-attribute survival test.
 * usage: env_state [iterations=20] [interval_ms=50]
 *
 * Moves into ./env_state.dir, sets umask 027 and distinctive soft limits for
 * RLIMIT_NOFILE and RLIMIT_CORE, then prints them every iteration. A restart
 * that lost any of them prints a different line. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog_util.h"

static rlim_t distinctive(int resource, rlim_t wanted)
{
    struct rlimit lim;
    getrlimit(resource, &lim);
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= wanted ? wanted : lim.rlim_max;
    if (setrlimit(resource, &lim) != 0) {
        perror("setrlimit");
        exit(3);
    }
    return lim.rlim_cur;
}

static long soft_limit(int resource)
{
    struct rlimit lim;
    getrlimit(resource, &lim);
    return lim.rlim_cur == RLIM_INFINITY ? -1 : (long)lim.rlim_cur;
}

int main(int argc, char **argv)
{
    note_start("env_state");
    long iterations = arg_long(argc, argv, 1, 20);
    long interval_ms = arg_long(argc, argv, 2, 50);

    mkdir("env_state.dir", 0755);
    if (chdir("env_state.dir") != 0) {
        perror("chdir");
        return 3;
    }
    int fd = open("marker", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
    umask(027);
    distinctive(RLIMIT_NOFILE, 777);
    distinctive(RLIMIT_CORE, 12345 * 1024);

    for (long i = 0; i < iterations; i++) {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) == NULL)
            strcpy(cwd, "(unreachable)");
        mode_t mask = umask(0);
        umask(mask);
        int marker = access("marker", F_OK) == 0;
        printf("iter %ld: cwd=%s marker=%s umask=%04o nofile=%ld core=%ld\n", i, cwd,
               marker ? "found" : "missing", (unsigned)mask, soft_limit(RLIMIT_NOFILE),
               soft_limit(RLIMIT_CORE));
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    printf("env_state done\n");
    return 0;
}
