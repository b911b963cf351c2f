/* Small helpers shared by the checkpoint/restart test subjects.
 * Header-only so each program stays a single translation unit. */
#ifndef REPRISE_TEST_PROG_UTIL_H
#define REPRISE_TEST_PROG_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Sleep until `ms` milliseconds from now have passed on CLOCK_MONOTONIC.
 * A checkpoint signal makes clock_nanosleep return EINTR early (known
 * artefact); looping to the absolute deadline hides that from the output.
 * After a restart the deadline is usually already in the past, so the
 * program just carries on. */
static inline void sleep_ms(long ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {
    }
}

static inline int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parse argv[index] as a long, or return `fallback` when absent. Exits with
 * status 2 on garbage so a typo in a test never silently uses a default. */
static inline long arg_long(int argc, char **argv, int index, long fallback)
{
    if (index >= argc)
        return fallback;
    char *end = NULL;
    errno = 0;
    long value = strtol(argv[index], &end, 10);
    if (errno != 0 || end == argv[index] || *end != '\0') {
        fprintf(stderr, "%s: bad numeric argument '%s'\n", argv[0], argv[index]);
        exit(2);
    }
    return value;
}

/* Deterministic, incompressible pseudo-random stream (xorshift64*). */
static inline uint64_t xorshift64s(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* FNV-1a style 64-bit running checksum over bytes. */
static inline uint64_t checksum_bytes(uint64_t sum, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        sum ^= p[i];
        sum *= 0x100000001b3ULL;
    }
    return sum;
}

#define CHECKSUM_INIT 0xcbf29ce484222325ULL

/* Test hook: when CRTEST_START_LOG names a file, append one line to it at
 * program start. A restored process does not run main() again, so the test
 * can tell a real restore from a re-execution of the command. The file is
 * closed right away, so it is not part of any checkpoint. */
static inline void note_start(const char *name)
{
    const char *path = getenv("CRTEST_START_LOG");
    if (path == NULL || *path == '\0')
        return;
    FILE *log = fopen(path, "a");
    if (log != NULL) {
        fprintf(log, "%s started\n", name);
        fclose(log);
    }
}

/* Benchmark hook: the benchmark creates ./resume.probe just before it starts
 * cr_restart; the restored program notices it on its next wake-up, removes
 * it and reports the time. Returns 1 when the probe was there. */
static inline int consume_resume_probe(void)
{
    return unlink("resume.probe") == 0;
}

/* Moves fd to number `to` (dup2 + close), so tests can name it whatever fds
 * the caller (ctest, CI) left open. Exits on failure. */
static inline int move_fd(int fd, int to)
{
    if (fd < 0 || dup2(fd, to) != to || close(fd) != 0) {
        perror("move_fd");
        exit(2);
    }
    return to;
}
#endif
