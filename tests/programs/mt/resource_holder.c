// resource_holder MODE [ARG] [TICKS=100] [DELAY_MS=20]
//
// Holds one resource the checkpoint engine must refuse (or accept), then
// prints "tick N" lines until TICKS are done and exits 0. Modes:
//   plain            nothing special (a baseline)
//   tcp PORT         a TCP connection to 127.0.0.1:PORT (outside the tree)
//   unix PATH        a connected Unix stream socket to PATH
//   socketpair       a socketpair shared with a forked child (inside the tree)
//   shm              a SysV shared memory segment, attached
//   child            forks one child that also ticks silently (for --pid)
// After setting up, it prints "ready fd=N" (the descriptor of interest, or -1)
// and "ids: pid=P" before the ticks.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: resource_holder MODE [ARG] [TICKS] [DELAY_MS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argv[1];
    int argi = 2;
    int fd = -1;
    pid_t child = -1;
    if (strcmp(mode, "tcp") == 0 && argc > 2) {
        int port = atoi(argv[argi++]);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
            perror("connect");
            return 1;
        }
    } else if (strcmp(mode, "unix") == 0 && argc > 2) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[argi++]);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            perror("connect");
            return 1;
        }
    } else if (strcmp(mode, "socketpair") == 0 || strcmp(mode, "child") == 0) {
        int sv[2] = {-1, -1};
        if (strcmp(mode, "socketpair") == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            perror("socketpair");
            return 1;
        }
        child = fork();
        if (child == 0) {
            if (sv[0] >= 0)
                close(sv[0]);
            for (;;)
                pause();
        }
        if (sv[1] >= 0)
            close(sv[1]);
        fd = sv[0];
    } else if (strcmp(mode, "shm") == 0) {
        int id = shmget(IPC_PRIVATE, 1 << 16, IPC_CREAT | 0600);
        void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
        if (p == (void *)-1) {
            perror("shmget/shmat");
            return 1;
        }
        shmctl(id, IPC_RMID, NULL); // destroyed once detached: nothing leaks
        memset(p, 0x5a, 1 << 16);
    } else if (strcmp(mode, "plain") != 0) {
        fprintf(stderr, "resource_holder: unknown mode %s\n", mode);
        return 2;
    }
    int ticks = argc > argi ? atoi(argv[argi]) : 100;
    int delay_ms = argc > argi + 1 ? atoi(argv[argi + 1]) : 20;
    printf("ready fd=%d\n", fd);
    printf("ids: pid=%d\n", getpid());
    for (int t = 1; t <= ticks; t++) {
        printf("tick %d\n", t);
        sleep_ms(delay_ms);
    }
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    return 0;
}
