/* An inotify watcher that watches changes it makes itself.
 * usage: inotify_watch DIR [iterations=30] [pause_ms=30]
 *
 * In DIR: a directory "watched" (watched by a relative path, after chdir)
 * and a file "log" (watched for IN_MODIFY). Watch descriptors are made
 * non-trivial: a first watch is added and removed, so the two live ones are
 * 2 (log) and 3 (watched). Each iteration creates, writes, closes and deletes
 * watched/f<i>, appends to log, and reads events until it has seen, with the
 * right watch descriptors and names, IN_CREATE, IN_CLOSE_WRITE and IN_DELETE
 * for f<i> and IN_MODIFY for log. Anything else prints FAIL. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "prog_util.h"

static void fail(long iter, const char *what)
{
    printf("FAIL iteration %ld: %s\n", iter, what);
    fflush(stdout);
    exit(1);
}

int main(int argc, char **argv)
{
    note_start("inotify_watch");
    if (argc < 2) {
        fprintf(stderr, "usage: inotify_watch DIR [iterations] [pause_ms]\n");
        return 2;
    }
    long iterations = arg_long(argc, argv, 2, 30);
    long pause_ms = arg_long(argc, argv, 3, 30);
    if (chdir(argv[1]) != 0)
        fail(-1, "chdir");
    mkdir("watched", 0700);
    mkdir("first", 0700);
    int logfd = open("log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    close(logfd);
    int in = inotify_init1(IN_CLOEXEC);
    int first = inotify_add_watch(in, "first", IN_ALL_EVENTS);
    int wd_log = inotify_add_watch(in, "log", IN_MODIFY);
    inotify_rm_watch(in, first);
    int wd_dir = inotify_add_watch(in, "watched", IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_ONLYDIR);
    if (in < 0 || wd_log != 2 || wd_dir != 3)
        fail(-1, "unexpected watch descriptors at start");
    /* Drain the IN_IGNORED of the removed watch. */
    char buf[4096] __attribute__((aligned(8)));
    struct pollfd p = {in, POLLIN, 0};
    while (poll(&p, 1, 100) == 1)
        if (read(in, buf, sizeof buf) <= 0)
            break;

    for (long i = 0; i < iterations; ++i) {
        char name[32];
        snprintf(name, sizeof name, "f%ld", i);
        char path[64];
        snprintf(path, sizeof path, "watched/%s", name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, "x", 1) != 1)
            fail(i, "writing the watched file");
        close(fd);
        unlink(path);
        int lfd = open("log", O_WRONLY | O_APPEND);
        if (lfd < 0 || write(lfd, "y", 1) != 1)
            fail(i, "appending to log");
        close(lfd);

        int got_create = 0, got_close = 0, got_delete = 0, got_modify = 0;
        while (!(got_create && got_close && got_delete && got_modify)) {
            int r = poll(&p, 1, 3000);
            if (r < 0 && errno == EINTR)
                continue;
            if (r != 1)
                fail(i, "events missing after 3 s");
            ssize_t n = read(in, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                fail(i, "read inotify");
            for (char *at = buf; at < buf + n;) {
                struct inotify_event *e = (struct inotify_event *)at;
                at += sizeof *e + e->len;
                if (e->wd == wd_log && (e->mask & IN_MODIFY)) {
                    got_modify++;
                    continue;
                }
                if (e->wd != wd_dir || e->len == 0 || strcmp(e->name, name) != 0) {
                    printf("FAIL iteration %ld: event wd %d mask %x name '%s'\n", i, e->wd, e->mask,
                           e->len ? e->name : "");
                    exit(1);
                }
                got_create += (e->mask & IN_CREATE) != 0;
                got_close += (e->mask & IN_CLOSE_WRITE) != 0;
                got_delete += (e->mask & IN_DELETE) != 0;
            }
        }
        if (got_create != 1 || got_close != 1 || got_delete != 1 || got_modify != 1)
            fail(i, "an event came twice");
        printf("iteration %ld: create, close_write, delete of %s on wd %d; modify on wd %d\n", i, name, wd_dir,
               wd_log);
        fflush(stdout);
        sleep_ms(pause_ms);
    }
    printf("done: %ld iterations\n", iterations);
    return 0;
}
