/* Processes of a tree take turns on memory they share (MAP_SHARED|MAP_ANONYMOUS,
 * inherited across fork): a chain parent -> child -> grandchild... passes a
 * turn around a ring; at its turn each process checks that the counter and a
 * marker written by the previous process are what it expects, then updates
 * both and passes the turn on. The marker lives in a second region of which
 * the first child keeps only a sub-range (munmap) and the grandchild moves its
 * copy elsewhere (mremap), so the restored sharing must honour offsets.
 * If a restart gives the processes separate copies, a process never sees its
 * turn (prints "MISMATCH: ... never came", exit 1) or sees a stale value
 * ("MISMATCH: ..."); output is deterministic otherwise.
 * With "posix", the turn and counter live instead in a POSIX shm object
 * (shm_open, still linked) that each process opens and maps by name; its name
 * derives from the working directory, and the parent unlinks it at the end.
 * usage: shared_counter [procs=2] [rounds=40] [interval_ms=30] [anon|posix] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "prog_util.h"

#define PAGE 4096
#define MARKER_PAGES 4
#define MARKER_PAGE 2 /* the page every process keeps */

struct shared {
    uint32_t turn;
    uint32_t pad;
    uint64_t counter;
};

static long procs, rounds, interval_ms;

static void mismatch(long me, const char *what, uint64_t saw, uint64_t want)
{
    printf("MISMATCH: process %ld %s: saw %llu, expected %llu\n", me, what, (unsigned long long)saw,
           (unsigned long long)want);
    fflush(stdout);
    exit(1);
}

/* Polls (not a clock: a restart's downtime must not count) for our turn. */
static void wait_turn(volatile struct shared *s, long me, long round)
{
    for (long polls = 0; __atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) != (uint32_t)me; polls++) {
        if (polls > 60000) {
            printf("MISMATCH: process %ld round %ld: the turn never came (no write of the others seen)\n", me,
                   round);
            fflush(stdout);
            exit(1);
        }
        sleep_ms(1);
    }
}

static void take_turns(struct shared *s, uint64_t *marker, long me)
{
    for (long round = 0; round < rounds; round++) {
        wait_turn(s, me, round);
        uint64_t want = (uint64_t)(round * procs + me);
        if (s->counter != want)
            mismatch(me, "counter", s->counter, want);
        if (want > 0 && *marker != want * 1000 + 7)
            mismatch(me, "marker", *marker, want * 1000 + 7);
        printf("round %ld process %ld counter %llu\n", round, me, (unsigned long long)want);
        fflush(stdout);
        sleep_ms(interval_ms);
        *marker = (want + 1) * 1000 + 7;
        s->counter = want + 1;
        __atomic_store_n(&s->turn, (uint32_t)((me + 1) % procs), __ATOMIC_RELEASE);
    }
}

static struct shared *map_named(const char *name, int flags)
{
    int fd = shm_open(name, O_RDWR | flags, 0600);
    if (fd < 0 || ((flags & O_CREAT) && ftruncate(fd, PAGE) != 0)) {
        perror("shm_open");
        exit(2);
    }
    struct shared *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return s;
}

int main(int argc, char **argv)
{
    note_start("shared_counter");
    procs = arg_long(argc, argv, 1, 2);
    rounds = arg_long(argc, argv, 2, 40);
    interval_ms = arg_long(argc, argv, 3, 30);
    if (procs < 1 || procs > 16) {
        fprintf(stderr, "shared_counter: procs must be 1..16\n");
        return 2;
    }
    int posix = argc > 4 && strcmp(argv[4], "posix") == 0;
    char name[64] = "";
    if (posix) {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return 2;
        snprintf(name, sizeof name, "/crtest_counter_%016llx",
                 (unsigned long long)checksum_bytes(CHECKSUM_INIT, cwd, strlen(cwd)));
    }
    struct shared *s = posix ? map_named(name, O_CREAT | O_TRUNC)
                             : mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *markers = mmap(NULL, MARKER_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED || markers == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    uint64_t *marker = (uint64_t *)(markers + MARKER_PAGE * PAGE);
    long me = 0;
    pid_t child = -1;
    for (long k = 1; k < procs; k++) {
        child = fork();
        if (child < 0) {
            perror("fork");
            return 2;
        }
        if (child > 0)
            break;
        me = k;
        child = -1;
        if (posix) { /* a mapping of its own, by name */
            munmap(s, PAGE);
            s = map_named(name, 0);
        }
        if (k == 1) { /* keep only the marker page: a sub-range at offset 2 pages */
            munmap(markers, MARKER_PAGE * PAGE);
            munmap(markers + (MARKER_PAGE + 1) * PAGE, (MARKER_PAGES - MARKER_PAGE - 1) * PAGE);
        } else if (k == 2) { /* move it elsewhere */
            void *spot = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            void *moved = spot == MAP_FAILED ? MAP_FAILED
                                             : mremap(marker, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
            if (moved == MAP_FAILED) {
                perror("mremap");
                return 2;
            }
            marker = moved;
        }
    }
    take_turns(s, marker, me);
    int status = 0;
    if (child > 0 && waitpid(child, &status, 0) == child && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        printf("process %ld: child failed (status %d)\n", me, status);
        return 1;
    }
    if (me == 0) {
        printf("done: counter %llu\n", (unsigned long long)s->counter);
        fflush(stdout);
        if (posix)
            shm_unlink(name);
    }
    return 0;
}
