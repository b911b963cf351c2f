/* Holds one object the engine must refuse, then ticks: "big" an fd of a
 * memfd larger than an image keeps (64 MiB), "privmap" a private mapping of
 * a file deleted after mapping, "sysvsem" a SysV semaphore it used (removed
 * at once, so a killed test leaks nothing; the agent remembers the use),
 * "bigfile" a 65 MiB (sparse) file open read-write, too big to save.
 * usage: deleted_holder big|privmap|sysvsem|bigfile [ticks=150] [interval_ms=10] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sem.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    long ticks = arg_long(argc, argv, 2, 150);
    long interval_ms = arg_long(argc, argv, 3, 10);
    if (strcmp(mode, "big") == 0) {
        int fd = move_fd(memfd_create("too-big", 0), 40);
        if (ftruncate(fd, 65l << 20) != 0) {
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
    } else if (strcmp(mode, "bigfile") == 0) {
        int fd = move_fd(open("big.dat", O_RDWR | O_CREAT | O_TRUNC, 0600), 40);
        if (ftruncate(fd, 65l << 20) != 0) {
            perror("big.dat");
            return 2;
        }
    } else if (strcmp(mode, "sysvsem") == 0) {
        int id = semget(IPC_PRIVATE, 1, 0600);
        struct sembuf up = {0, 1, 0};
        if (id < 0 || semop(id, &up, 1) != 0) {
            perror("semget");
            return 2;
        }
        semctl(id, 0, IPC_RMID);
    } else {
        fprintf(stderr, "usage: deleted_holder big|privmap|sysvsem|bigfile [ticks] [interval_ms]\n");
        return 2;
    }
    for (long i = 1; i <= ticks; i++) {
        printf("tick %ld\n", i);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    return 0;
}
