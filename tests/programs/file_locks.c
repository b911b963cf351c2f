/* File locks held across a checkpoint (issue 11 item 6).
 * usage: file_locks DIR [rounds=30] [interval_ms=100]
 * Holds an flock write lock on DIR/a.lock, POSIX locks on DIR/b.lock (write
 * on bytes 10-29, read from 100 to EOF) and an OFD write lock on
 * DIR/c.lock. Each round a child process checks from outside that all are
 * still held (and the POSIX one by its parent); a restart that does not take
 * them back prints "NOT HELD". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "prog_util.h"

static int open_in(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return open(path, O_RDWR | O_CREAT, 0600);
}

/* In a child: 0 if every lock is seen held, else which one is not. */
static int check_from_outside(const char *dir)
{
    int a = open_in(dir, "a.lock");
    if (flock(a, LOCK_EX | LOCK_NB) == 0)
        return 1;
    int b = open_in(dir, "b.lock");
    struct flock w = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 15, .l_len = 1};
    if (fcntl(b, F_GETLK, &w) != 0 || w.l_type != F_WRLCK || w.l_pid != getppid() || w.l_start != 10 || w.l_len != 20)
        return 2;
    struct flock r = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5000, .l_len = 1};
    if (fcntl(b, F_GETLK, &r) != 0 || r.l_type != F_RDLCK || r.l_start != 100 || r.l_len != 0)
        return 3;
    struct flock free_range = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 40, .l_len = 10};
    if (fcntl(b, F_GETLK, &free_range) != 0 || free_range.l_type != F_UNLCK)
        return 4;
    int c = open_in(dir, "c.lock");
    struct flock o = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(c, F_OFD_GETLK, &o) != 0 || o.l_type != F_WRLCK)
        return 5;
    return 0;
}

int main(int argc, char **argv)
{
    note_start("file_locks");
    if (argc < 2) {
        fprintf(stderr, "usage: file_locks DIR [rounds] [interval_ms]\n");
        return 2;
    }
    const char *dir = argv[1];
    long rounds = arg_long(argc, argv, 2, 30);
    long interval_ms = arg_long(argc, argv, 3, 100);
    int a = open_in(dir, "a.lock"), b = open_in(dir, "b.lock"), c = open_in(dir, "c.lock");
    if (a < 0 || b < 0 || c < 0 || flock(a, LOCK_EX | LOCK_NB) != 0)
        return 1;
    struct flock w = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 20};
    struct flock r = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 0};
    struct flock o = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(b, F_SETLK, &w) != 0 || fcntl(b, F_SETLK, &r) != 0 || fcntl(c, F_OFD_SETLK, &o) != 0)
        return 1;
    static const char *what[] = {"", "flock", "POSIX write 10-29", "POSIX read 100-EOF", "POSIX free range",
                                 "OFD write"};
    for (long i = 0; i < rounds; i++) {
        sleep_ms(interval_ms);
        pid_t child = fork();
        if (child == 0)
            _exit(check_from_outside(dir));
        int status = 0;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        int bad = WIFEXITED(status) ? WEXITSTATUS(status) : 6;
        if (bad == 0)
            printf("round %ld: every lock held\n", i);
        else
            printf("round %ld: %s lock NOT HELD\n", i, bad < 6 ? what[bad] : "(checker died)");
        fflush(stdout);
    }
    return 0;
}
