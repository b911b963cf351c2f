// bench_tree procs|threads N MIB
//
// Benchmark subject for bench/cr/tree_bench.sh: N processes (the root and
// N-1 children) or one process with N threads (main and N-1 workers), each
// with MIB MiB of heap touched (a non-zero pattern, so every page is in the
// image). Every participant reports "alive" about once a millisecond; the
// root prints "tick K" each time all N have reported since the previous tick,
// so a new tick line after a restart means the whole tree is running again.
// Runs until killed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_N 256

static size_t mib = 4;
static int n = 16;
static atomic_int seen[MAX_N];
// Keeps the touched buffers reachable, so the compiler cannot drop them.
static unsigned char *volatile buffers[MAX_N];

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

static void touch_memory(int index)
{
    size_t len = mib << 20;
    unsigned char *p = malloc(len);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    for (size_t i = 0; i < len; i += 512)
        ((volatile unsigned char *)p)[i] = (unsigned char)(i / 512 + index + 1);
    buffers[index] = p;
}

static void *worker(void *arg)
{
    int index = (int)(long)arg;
    touch_memory(index);
    for (;;) {
        atomic_store(&seen[index], 1);
        nap_us(1000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "procs") != 0 && strcmp(argv[1], "threads") != 0)) {
        fprintf(stderr, "usage: bench_tree procs|threads N MIB\n");
        return 2;
    }
    n = atoi(argv[2]);
    mib = (size_t)atol(argv[3]);
    if (n < 1 || n > MAX_N) {
        fprintf(stderr, "bench_tree: N must be 1..%d\n", MAX_N);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int procs = strcmp(argv[1], "procs") == 0;
    int fds[2] = {-1, -1};
    if (procs) {
        if (pipe(fds) != 0) {
            perror("pipe");
            return 1;
        }
        for (int i = 1; i < n; i++) {
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                return 1;
            }
            if (pid == 0) {
                close(fds[0]);
                touch_memory(i);
                unsigned char id = (unsigned char)i;
                for (;;) {
                    if (write(fds[1], &id, 1) < 0 && errno != EINTR)
                        _exit(1);
                    nap_us(1000);
                }
            }
        }
        close(fds[1]);
    } else {
        for (int i = 1; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, worker, (void *)(long)i) != 0) {
                perror("pthread_create");
                return 1;
            }
        }
    }
    touch_memory(0);
    atomic_store(&seen[0], 1);
    for (long tick = 1;; tick++) {
        // Wait until every participant has reported since the last tick.
        int missing = 1;
        while (missing) {
            if (procs) {
                unsigned char buf[256];
                ssize_t got = read(fds[0], buf, sizeof buf);
                if (got < 0 && errno != EINTR)
                    return 1;
                for (ssize_t k = 0; k < got; k++)
                    atomic_store(&seen[buf[k]], 1);
            } else {
                nap_us(200);
            }
            missing = 0;
            for (int i = 1; i < n; i++)
                missing |= !atomic_load(&seen[i]);
        }
        for (int i = 1; i < n; i++)
            atomic_store(&seen[i], 0);
        printf("tick %ld\n", tick);
    }
}
