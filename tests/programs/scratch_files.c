/* Files that exist only in the kernel, shared by a parent and its child:
 * - a memfd (sealed against shrinking and growing) that the parent reads and
 *   writes through a shared mapping and the child through pread/pwrite;
 * - a scratch file opened O_APPEND and unlinked at once, its description
 *   shared across fork (one offset): each process appends a record at its
 *   turn and checks the other's;
 * - a POSIX shm object unlinked right after mapping (only the mapping left);
 * - a tmpfile() the parent writes lines to and reads back at the end.
 * The two take turns through the memfd; each checks what the other wrote
 * and prints a MISMATCH line (exit 1) when a write is not seen.
 * usage: scratch_files [rounds=30] [interval_ms=30] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "prog_util.h"

#define PAGE 4096
#define RECORD 16

struct board {
    uint32_t turn;
    uint32_t pad;
    uint64_t counter;
};

static void mismatch(const char *what, long me, long round, long saw, long want)
{
    printf("MISMATCH: process %ld round %ld: %s: saw %ld, expected %ld\n", me, round, what, saw, want);
    fflush(stdout);
    exit(1);
}

static uint64_t read_counter(int memfd, struct board *b, long me)
{
    if (me == 0)
        return b->counter;
    uint64_t v = 0;
    if (pread(memfd, &v, sizeof v, offsetof(struct board, counter)) != sizeof v)
        mismatch("pread of the memfd failed", me, -1, -1, 0);
    return v;
}

static void write_counter(int memfd, struct board *b, long me, uint64_t v)
{
    if (me == 0)
        b->counter = v;
    else if (pwrite(memfd, &v, sizeof v, offsetof(struct board, counter)) != sizeof v)
        mismatch("pwrite of the memfd failed", me, -1, -1, 0);
}

int main(int argc, char **argv)
{
    note_start("scratch_files");
    long rounds = arg_long(argc, argv, 1, 30);
    long interval_ms = arg_long(argc, argv, 2, 30);

    int memfd = memfd_create("scratch-board", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0 || ftruncate(memfd, 3 * PAGE) != 0 || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
        perror("memfd");
        return 2;
    }
    struct board *b = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    int scratch = open("scratch.tmp", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int shm = shm_open("/scratch_files_shm", O_RDWR | O_CREAT | O_EXCL, 0600);
    if (b == MAP_FAILED || scratch < 0 || shm < 0 || ftruncate(shm, PAGE) != 0) {
        perror("setup");
        return 2;
    }
    unlink("scratch.tmp");
    uint64_t *shm_word = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    shm_unlink("/scratch_files_shm");
    close(shm);
    FILE *tmp = tmpfile();
    if (shm_word == MAP_FAILED || tmp == NULL) {
        perror("setup");
        return 2;
    }

    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 2;
    }
    long me = child == 0 ? 1 : 0;
    for (long r = 0; r < rounds; r++) {
        for (long polls = 0; __atomic_load_n(&b->turn, __ATOMIC_ACQUIRE) != (uint32_t)me; polls++) {
            if (polls > 60000)
                mismatch("the turn never came (the memfd is not shared)", me, r, -1, me);
            sleep_ms(1);
        }
        long want = 2 * r + me;
        long counter = (long)read_counter(memfd, b, me);
        if (counter != want)
            mismatch("memfd counter", me, r, counter, want);
        if ((long)*shm_word != want)
            mismatch("unlinked shm word", me, r, (long)*shm_word, want);
        struct stat st;
        fstat(scratch, &st);
        if (st.st_size != want * RECORD)
            mismatch("scratch file size", me, r, (long)st.st_size, want * RECORD);
        if (want > 0) {
            char prev[64] = {0}, expect[64];
            snprintf(expect, sizeof expect, "r=%05ld p=%ld....\n", (want - 1) % 100000, 1 - me);
            if (pread(scratch, prev, RECORD, (want - 1) * RECORD) != RECORD || memcmp(prev, expect, RECORD) != 0)
                mismatch("scratch record", me, r, want - 1, want - 1);
        }
        char rec[64];
        snprintf(rec, sizeof rec, "r=%05ld p=%ld....\n", want % 100000, me);
        if (write(scratch, rec, RECORD) != RECORD) /* O_APPEND: lands at the end */
            mismatch("append to the scratch file", me, r, -1, want);
        if (me == 0)
            fprintf(tmp, "tmpfile line %ld\n", r);
        printf("round %ld process %ld counter %ld\n", r, me, want);
        fflush(stdout);
        sleep_ms(interval_ms);
        *shm_word = (uint64_t)want + 1;
        write_counter(memfd, b, me, (uint64_t)want + 1);
        __atomic_store_n(&b->turn, (uint32_t)(1 - me), __ATOMIC_RELEASE);
    }
    if (me == 1)
        return 0;
    int status = 0;
    waitpid(child, &status, 0);
    int seals = fcntl(memfd, F_GET_SEALS);
    int shrink = ftruncate(memfd, PAGE);
    printf("child status %d, seals %s, shrink refused %s\n", status,
           seals == (F_SEAL_SHRINK | F_SEAL_GROW) ? "kept" : "LOST", shrink != 0 ? "yes" : "NO");
    rewind(tmp);
    char line[64];
    long lines = 0;
    while (fgets(line, sizeof line, tmp) != NULL) {
        char expect[64];
        snprintf(expect, sizeof expect, "tmpfile line %ld\n", lines);
        if (strcmp(line, expect) != 0)
            mismatch("tmpfile line", 0, lines, -1, lines);
        lines++;
    }
    printf("tmpfile lines %ld, scratch bytes %ld\n", lines, (long)lseek(scratch, 0, SEEK_END));
    return 0;
}
