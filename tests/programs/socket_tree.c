/* Benchmark subject: a tree of N children, each holding one end of a UNIX
 * stream socketpair whose other end the parent holds, with MIB MiB written
 * by the child and not yet read by the parent (bytes in flight), or with
 * "none" the same tree without sockets. Prints "ready" once everything is
 * in flight; after a restart it notices ./resume.probe and prints
 * "resumed"; when ./finish appears the parent reads and checks every byte
 * and prints the verdict.
 *
 * usage: socket_tree N MIB sock|none */
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "prog_util.h"

static unsigned char pattern(long child, size_t k) { return (unsigned char)((child * 131 + (long)k * 7) & 0xff); }

int main(int argc, char **argv)
{
    long n = arg_long(argc, argv, 1, 100), mib = arg_long(argc, argv, 2, 1);
    int sockets = argc > 3 && strcmp(argv[3], "sock") == 0;
    note_start("socket_tree");
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t bytes = (size_t)mib << 20;
    int *ends = calloc((size_t)n, sizeof *ends);
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    int ready[2];
    if (pipe(ready))
        return 1;
    for (long i = 0; i < n; i++) {
        int sv[2] = {-1, -1};
        if (sockets) {
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
                return 1;
            int size = (int)(bytes * 2 + (1 << 20));
            setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
        }
        kids[i] = fork();
        if (kids[i] == 0) {
            close(ready[0]);
            if (sockets) {
                close(sv[0]);
                for (long j = 0; j < i; j++) /* the parent's ends of earlier pairs */
                    close(ends[j]);
                unsigned char *buf = malloc(bytes);
                for (size_t k = 0; k < bytes; k++)
                    buf[k] = pattern(i, k);
                for (size_t done = 0; done < bytes;) {
                    ssize_t w = write(sv[1], buf + done, bytes - done);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0)
                        _exit(1);
                    done += (size_t)w;
                }
                free(buf);
            }
            if (write(ready[1], "r", 1) != 1)
                _exit(1);
            for (;;)
                pause();
        }
        if (sockets) {
            close(sv[1]);
            ends[i] = sv[0];
        }
    }
    close(ready[1]);
    for (long i = 0; i < n; i++) {
        char c;
        while (read(ready[0], &c, 1) < 0 && errno == EINTR) {
        }
    }
    printf("ready\n");
    while (access("finish", F_OK) != 0) {
        if (consume_resume_probe())
            printf("resumed\n");
        sleep_ms(5);
    }
    long bad = 0;
    if (sockets) {
        unsigned char *buf = malloc(bytes);
        for (long i = 0; i < n; i++) {
            for (size_t done = 0; done < bytes;) {
                ssize_t r = read(ends[i], buf + done, bytes - done);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break;
                done += (size_t)r;
            }
            for (size_t k = 0; k < bytes; k++)
                if (buf[k] != pattern(i, k)) {
                    bad++;
                    break;
                }
        }
    }
    for (long i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    while (wait(NULL) > 0) {
    }
    printf("verified: %ld of %ld streams wrong\n", bad, sockets ? n : 0);
    return bad != 0;
}
