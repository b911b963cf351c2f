/* Socket states for the engine's refusal and --external-sockets tests.
 *
 *   socket_client scm ROUNDS DELAY_MS
 *       a descriptor sent over a socketpair and not received yet (SCM_RIGHTS
 *       in flight: must be refused), then ticks.
 *   socket_client outside PATH ROUNDS DELAY_MS
 *       a client of a UNIX stream server outside the job (at PATH): sends
 *       "ping N", expects "pong N"; when the connection reads EOF or fails
 *       it reconnects, as programs do with license servers. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "prog_util.h"

static int connect_to(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    for (int tries = 0; tries < 100; tries++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        close(fd);
        sleep_ms(50);
    }
    fprintf(stderr, "socket_client: cannot connect to %s: %s\n", path, strerror(errno));
    exit(1);
}

/* One exchange; 0 when the connection is gone. */
static int ping(int fd, long n)
{
    char out[32], in[32];
    int len = snprintf(out, sizeof out, "ping %ld\n", n);
    if (send(fd, out, (size_t)len, MSG_NOSIGNAL) != len)
        return 0;
    size_t got = 0;
    while (got < sizeof in - 1) {
        ssize_t r = recv(fd, in + got, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        if (in[got++] == '\n')
            break;
    }
    in[got] = '\0';
    char want[32];
    snprintf(want, sizeof want, "pong %ld\n", n);
    if (strcmp(in, want) != 0) {
        printf("MISMATCH: got \"%s\"\n", in);
        exit(1);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    note_start("socket_client");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "scm") == 0) {
        long rounds = arg_long(argc, argv, 2, 30), delay = arg_long(argc, argv, 3, 40);
        int sp[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
        char byte = 'x';
        struct iovec iov = {&byte, 1};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        int passed = 1;
        memcpy(CMSG_DATA(c), &passed, sizeof passed);
        if (sendmsg(sp[0], &m, 0) != 1)
            return 1;
        for (long r = 0; r < rounds; r++) {
            printf("tick %ld\n", r);
            sleep_ms(delay);
        }
        return 0;
    }
    if (strcmp(argv[1], "outside") == 0 && argc >= 5) {
        const char *path = argv[2];
        long rounds = arg_long(argc, argv, 3, 30), delay = arg_long(argc, argv, 4, 40);
        int fd = connect_to(path);
        for (long r = 0; r < rounds; r++) {
            while (!ping(fd, r)) {
                printf("connection lost at round %ld; reconnecting\n", r);
                close(fd);
                fd = connect_to(path);
            }
            printf("round %ld ok\n", r);
            sleep_ms(delay);
        }
        return 0;
    }
    return 2;
}
