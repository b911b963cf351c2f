// pipe_buffer [KIB=512] [CHUNK=4096] [DELAY_MS=10]
//
// Pipe test subject for the checkpoint/restart engine. The parent writes KIB
// KiB of a position-dependent byte pattern into a pipe as fast as it can; its
// child reads CHUNK bytes every DELAY_MS milliseconds. The pipe is therefore
// full (64 KiB buffered) for most of the run, and a checkpoint finds bytes in
// flight. The child checks every byte against the pattern, so a lost,
// duplicated or reordered byte shows up as a mismatch and as a wrong total or
// checksum. Only the child prints while data flows; the parent prints after
// the child has exited. Deterministic output; lines with pids start with
// "ids: ". Exits 44 when every byte arrived intact, 1 otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char pattern(uint64_t offset)
{
    // Not periodic with any power of two, so a shifted stream never matches.
    return (unsigned char)((offset * 7 + offset / 251 + (offset >> 13)) & 0xff);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static int reader(int fd, size_t chunk, int delay_ms)
{
    unsigned char *buf = malloc(chunk);
    uint64_t total = 0, mismatches = 0, first_bad = UINT64_MAX;
    uint32_t crc = 0;
    unsigned reads = 0;
    if (buf == NULL)
        return 1;
    for (;;) {
        sleep_ms(delay_ms);
        // Fill a whole chunk (pipes may return less), so the line sequence
        // does not depend on timing.
        size_t got = 0;
        while (got < chunk) {
            ssize_t n = read(fd, buf + got, chunk - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                perror("read");
                return 1;
            }
            if (n == 0)
                break;
            got += (size_t)n;
        }
        if (got == 0)
            break;
        for (size_t i = 0; i < got; i++)
            if (buf[i] != pattern(total + i)) {
                if (first_bad == UINT64_MAX)
                    first_bad = total + i;
                mismatches++;
            }
        crc = crc32_update(crc, buf, got);
        total += got;
        if (++reads % 4 == 0)
            printf("child: %llu bytes received, crc=%08x, mismatches=%llu\n",
                   (unsigned long long)total, crc, (unsigned long long)mismatches);
    }
    printf("child: end of data after %llu bytes, crc=%08x, mismatches=%llu\n",
           (unsigned long long)total, crc, (unsigned long long)mismatches);
    if (mismatches)
        printf("ERROR first mismatch at offset %llu\n", (unsigned long long)first_bad);
    return mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
    long kib = argc > 1 ? atol(argv[1]) : 512;
    long chunk = argc > 2 ? atol(argv[2]) : 4096;
    int delay_ms = argc > 3 ? atoi(argv[3]) : 10;
    if (kib < 1 || chunk < 1 || chunk > (1 << 20) || delay_ms < 0) {
        fprintf(stderr, "usage: pipe_buffer [KIB] [CHUNK(<=1MiB)] [DELAY_MS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    uint64_t total = (uint64_t)kib * 1024;
    printf("pipe_buffer: %llu bytes in chunks of %ld\n", (unsigned long long)total, chunk);
    printf("ids: parent pid=%d\n", getpid());

    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        close(fds[1]);
        fflush(stdout);
        _exit(reader(fds[0], (size_t)chunk, delay_ms));
    }
    close(fds[0]);

    unsigned char block[8192];
    uint32_t crc = 0;
    for (uint64_t off = 0; off < total;) {
        size_t n = sizeof block;
        if (total - off < n)
            n = (size_t)(total - off);
        for (size_t i = 0; i < n; i++)
            block[i] = pattern(off + i);
        crc = crc32_update(crc, block, n);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fds[1], block + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                perror("write");
                return 1;
            }
            done += (size_t)w;
        }
        off += n;
    }
    close(fds[1]);

    int status = 0;
    // wait(), not waitpid(child): the child's pid changes with
    // cr_restart --no-restore-pid, and the output must not.
    while (wait(&status) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    printf("parent: wrote %llu bytes, crc=%08x; child exited with %d\n",
           (unsigned long long)total, crc, code);
    printf("ids: parent pid at end=%d, child was %d\n", getpid(), child);
    return code == 0 ? 44 : 1;
}
