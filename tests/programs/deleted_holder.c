/* Holds one object the engine must refuse, then ticks: "big" an fd of a
 * memfd larger than an image keeps (64 MiB), "privmap" a private mapping of
 * a file deleted after mapping.
 * usage: deleted_holder big|privmap [ticks=150] [interval_ms=10] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    long ticks = arg_long(argc, argv, 2, 150);
    long interval_ms = arg_long(argc, argv, 3, 10);
    if (strcmp(mode, "big") == 0) {
        int fd = memfd_create("too-big", 0); /* fd 3 */
        if (fd < 0 || ftruncate(fd, 65l << 20) != 0) {
            perror("memfd");
            return 2;
        }
    } else if (strcmp(mode, "privmap") == 0) {
        int fd = open("mapped.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, 4096) != 0 ||
            mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
            perror("mapped.tmp");
            return 2;
        }
        close(fd);
        unlink("mapped.tmp");
    } else {
        fprintf(stderr, "usage: deleted_holder big|privmap [ticks] [interval_ms]\n");
        return 2;
    }
    for (long i = 1; i <= ticks; i++) {
        printf("tick %ld\n", i);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    return 0;
}
