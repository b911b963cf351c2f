/* Grows the heap step by step through both malloc paths (brk for small
 * blocks, mmap for large ones), fills every block with a pattern derived
 * from its (step, slot) identity, frees some older blocks, and before every
 * step re-verifies that all live blocks still hold their pattern.
 * usage: heap_growth [steps=40] [interval_ms=50]
 * Output is a deterministic running checksum and the growth of the program
 * break; any mismatch prints
 * "MISMATCH ..." and exits 1. */
#include <malloc.h>
#include <unistd.h>

#include "prog_util.h"

enum { SMALL_PER_STEP = 48, MAX_BLOCKS = 8192 };
#define LARGE_SIZE (320u * 1024u) /* above M_MMAP_THRESHOLD: an mmap chunk */

struct block {
    unsigned char *data;
    size_t size;
    uint64_t seed;
};

static struct block blocks[MAX_BLOCKS];
static size_t block_count;

static void fill(const struct block *b)
{
    uint64_t state = b->seed;
    for (size_t i = 0; i < b->size; i++)
        b->data[i] = (unsigned char)(xorshift64s(&state) >> 56);
}

/* Returns 0 if the block holds its pattern, else 1 + index of first bad byte. */
static size_t verify(const struct block *b)
{
    uint64_t state = b->seed;
    for (size_t i = 0; i < b->size; i++)
        if (b->data[i] != (unsigned char)(xorshift64s(&state) >> 56))
            return i + 1;
    return 0;
}

static void add_block(size_t size, uint64_t seed)
{
    if (block_count == MAX_BLOCKS) {
        fprintf(stderr, "heap_growth: too many blocks\n");
        exit(3);
    }
    struct block *b = &blocks[block_count++];
    b->size = size;
    b->seed = seed;
    b->data = malloc(size);
    if (b->data == NULL) {
        perror("malloc");
        exit(3);
    }
    fill(b);
}

static void free_block(size_t index)
{
    free(blocks[index].data);
    blocks[index] = blocks[--block_count];
}

int main(int argc, char **argv)
{
    note_start("heap_growth");
    long steps = arg_long(argc, argv, 1, 40);
    long interval_ms = arg_long(argc, argv, 2, 50);

    /* A fixed threshold keeps large blocks on the mmap path even after frees
     * (glibc otherwise raises the threshold dynamically). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* Growth of the program break is printed: if a restart left brk unusable,
     * glibc would quietly fall back to mmap and this number would stop
     * growing, which the comparison with an uninterrupted run catches. */
    char *initial_brk = sbrk(0);

    for (long step = 0; step < steps; step++) {
        /* 1. everything allocated so far must be intact */
        size_t total = 0;
        uint64_t sum = CHECKSUM_INIT;
        for (size_t i = 0; i < block_count; i++) {
            size_t bad = verify(&blocks[i]);
            if (bad) {
                printf("MISMATCH step %ld block seed %llu size %zu at byte %zu\n", step,
                       (unsigned long long)blocks[i].seed, blocks[i].size, bad - 1);
                return 1;
            }
            total += blocks[i].size;
            sum = checksum_bytes(sum, &blocks[i].seed, sizeof blocks[i].seed);
        }
        /* 2. grow: small blocks of varying size (brk) and one large block (mmap) */
        for (int j = 0; j < SMALL_PER_STEP; j++)
            add_block(16 + (size_t)((step * 37 + j * 101) % 2000), (uint64_t)step * 1000 + j + 1);
        add_block(LARGE_SIZE + (size_t)step * 4096, (uint64_t)step * 1000 + 999);
        /* 3. free a deterministic subset so the allocator reuses holes */
        for (size_t i = (size_t)step % 7; i < block_count; i += 9)
            free_block(i);

        printf("step %ld: blocks=%zu bytes=%zu checksum=%016llx brk+%ldKiB verified\n", step,
               block_count, total, (unsigned long long)sum, (long)((char *)sbrk(0) - initial_brk) / 1024);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    /* final check of everything, including blocks allocated after a restart */
    for (size_t i = 0; i < block_count; i++)
        if (verify(&blocks[i])) {
            printf("MISMATCH at final check\n");
            return 1;
        }
    printf("heap_growth done: %zu blocks intact\n", block_count);
    return 0;
}
