/* Large-memory survival test and benchmark subject.
 * usage: big_memory MIB [passes=3] [interval_ms=50]
 *
 * Maps MIB MiB of anonymous memory and fills every byte with a reproducible
 * pseudo-random (incompressible) stream, and maps a file it creates
 * (./big_memory.map, 64 pages) MAP_PRIVATE, modifying every third page so
 * those pages exist only in the process (copy-on-write) and must be saved.
 * Prints "ready ..." then:
 *  - passes > 0 (test mode): `passes` times, sleeps and verifies everything,
 *    printing a deterministic checksum line;
 *  - passes == 0 (benchmark mode): runs until killed, waking every interval;
 *    when it finds ./resume.probe (created by the benchmark just before it
 *    starts cr_restart) it removes it, prints "resumed at <CLOCK_REALTIME
 *    ns>", verifies every byte and prints "verified at <ns> ok". */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prog_util.h"

enum { MAP_PAGES = 64, PAGE = 4096 };
static const char *const map_path = "big_memory.map";

static uint64_t *region;
static size_t words;
static unsigned char *filemap;

static uint64_t fill_region(void)
{
    uint64_t state = 0x243f6a8885a308d3ULL, sum = 0;
    for (size_t i = 0; i < words; i++) {
        region[i] = xorshift64s(&state);
        sum ^= region[i] + i;
    }
    return sum;
}

/* Returns the checksum, or sets *bad to 1 + index of the first bad word. */
static uint64_t verify_region(size_t *bad)
{
    uint64_t state = 0x243f6a8885a308d3ULL, sum = 0;
    *bad = 0;
    for (size_t i = 0; i < words; i++) {
        uint64_t want = xorshift64s(&state);
        if (region[i] != want && *bad == 0)
            *bad = i + 1;
        sum ^= region[i] + i;
    }
    return sum;
}

static unsigned char file_byte(size_t i) { return (unsigned char)(i * 31 + 7); }
static unsigned char modified_byte(size_t i) { return (unsigned char)(i * 17 + 200); }
static int is_modified_page(size_t page) { return page % 3 == 1; }

static void setup_filemap(void)
{
    static unsigned char content[MAP_PAGES * PAGE];
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = file_byte(i);
    int fd = open(map_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, content, sizeof content) != (ssize_t)sizeof content) {
        perror(map_path);
        exit(3);
    }
    filemap = mmap(NULL, sizeof content, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (filemap == MAP_FAILED) {
        perror("mmap file");
        exit(3);
    }
    for (size_t page = 0; page < MAP_PAGES; page++)
        if (is_modified_page(page))
            for (size_t i = page * PAGE; i < (page + 1) * PAGE; i++)
                filemap[i] = modified_byte(i);
}

/* 0 when every page holds what it should: the private copy for modified
 * pages, the file's bytes for the others. */
static int verify_filemap(void)
{
    for (size_t i = 0; i < (size_t)MAP_PAGES * PAGE; i++) {
        unsigned char want = is_modified_page(i / PAGE) ? modified_byte(i) : file_byte(i);
        if (filemap[i] != want)
            return -1;
    }
    return 0;
}

static void bench_loop(long interval_ms)
{
    for (;;) {
        struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* an early EINTR return is fine here */
        if (!consume_resume_probe())
            continue;
        printf("resumed at %lld\n", (long long)now_ns(CLOCK_REALTIME));
        fflush(stdout);
        size_t bad;
        verify_region(&bad);
        int ok = bad == 0 && verify_filemap() == 0;
        printf("verified at %lld %s\n", (long long)now_ns(CLOCK_REALTIME), ok ? "ok" : "MISMATCH");
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    note_start("big_memory");
    if (argc < 2) {
        fprintf(stderr, "usage: big_memory MIB [passes] [interval_ms]\n");
        return 2;
    }
    long mib = arg_long(argc, argv, 1, 64);
    long passes = arg_long(argc, argv, 2, 3);
    long interval_ms = arg_long(argc, argv, 3, 50);

    size_t bytes = (size_t)mib << 20;
    words = bytes / sizeof(uint64_t);
    if (bytes) {
        region = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED) {
            perror("mmap");
            return 3;
        }
    }
    uint64_t sum = fill_region();
    setup_filemap();
    printf("ready %ld MiB checksum %016llx\n", mib, (unsigned long long)sum);
    fflush(stdout);

    if (passes == 0)
        bench_loop(interval_ms);

    for (long pass = 0; pass < passes; pass++) {
        sleep_ms(interval_ms);
        size_t bad;
        uint64_t check = verify_region(&bad);
        if (bad) {
            printf("MISMATCH pass %ld: word %zu of %zu differs\n", pass, bad - 1, words);
            return 1;
        }
        if (verify_filemap() != 0) {
            printf("MISMATCH pass %ld: private file mapping lost its contents\n", pass);
            return 1;
        }
        printf("pass %ld ok checksum %016llx filemap ok\n", pass, (unsigned long long)check);
        fflush(stdout);
    }
    printf("big_memory done\n");
    return 0;
}
