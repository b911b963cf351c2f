/* TCP over loopback, IPv4 and IPv6, between two processes, with bytes in
 * flight in both directions at every moment (each side writes round r, then
 * reads round r-1; every byte is checked, so a lost or duplicated byte
 * changes the output). Also: options that must survive (O_NONBLOCK,
 * TCP_NODELAY, SO_KEEPALIVE and its timings, SO_REUSEADDR, buffer sizes;
 * printed each round), a connection left in the listener's backlog until the
 * end, and a half-closed connection (the child shut down its writing side).
 * Ports are chosen by the kernel and never printed.
 *
 * usage: tcp_sockets ROUNDS DELAY_MS */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "prog_util.h"

static void die(const char *what)
{
    fprintf(stderr, "tcp_sockets: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listen_on(int family, struct sockaddr_storage *addr, socklen_t *len)
{
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)addr;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)addr, *len) || listen(fd, 8) || getsockname(fd, (struct sockaddr *)addr, len))
        die("listen");
    return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, 100);
            continue;
        }
        if (n < 0)
            die("write");
        p += n;
        len -= (size_t)n;
    }
}

static void read_all(int fd, char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pfd = {fd, POLLIN, 0};
            poll(&pfd, 1, 100);
            continue;
        }
        if (n <= 0) {
            printf("MISMATCH: connection ended early (%s)\n", n == 0 ? "EOF" : strerror(errno));
            exit(1);
        }
        p += n;
        len -= (size_t)n;
    }
}

enum { CHUNK = 3000 };

static void fill(char *buf, int side, int channel, long round)
{
    for (int k = 0; k < CHUNK; k++)
        buf[k] = (char)((round * 131 + k * 7 + side * 29 + channel * 3) & 0xff);
}

static long errors;
static uint64_t sum = CHECKSUM_INIT;

static void exchange(int fd[2], int side, long round, int send, int receive)
{
    char buf[CHUNK], want[CHUNK];
    for (int c = 0; send && c < 2; c++) {
        fill(buf, side, c, round);
        write_all(fd[c], buf, CHUNK);
    }
    if (!receive)
        return;
    for (int c = 0; c < 2; c++) {
        read_all(fd[c], buf, CHUNK);
        fill(want, !side, c, round - 1);
        if (memcmp(buf, want, CHUNK) != 0) {
            errors++;
            printf("MISMATCH side %d channel %d round %ld\n", side, c, round - 1);
        }
        sum = checksum_bytes(sum, buf, CHUNK);
    }
}

static void describe(int fd, char *out, size_t cap)
{
    int nodelay = 0, keep = 0, idle = 0, intvl = 0, cnt = 0, reuse = 0;
    socklen_t l = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &l);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keep, &l);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &l);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &l);
    getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, &l);
    int rcvbuf = 0;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &l);
    snprintf(out, cap, "nodelay %d keepalive %d/%d/%d/%d reuse %d rcvbuf %d nonblock %d", nodelay, keep, idle, intvl,
             cnt, reuse, rcvbuf, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
}

int main(int argc, char **argv)
{
    long rounds = arg_long(argc, argv, 1, 30);
    long delay = arg_long(argc, argv, 2, 40);
    note_start("tcp_sockets");
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sockaddr_storage a4, a6;
    socklen_t l4, l6;
    int s4 = listen_on(AF_INET, &a4, &l4), s6 = listen_on(AF_INET6, &a6, &l6);
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        int fd[2] = {socket(AF_INET, SOCK_STREAM, 0), socket(AF_INET6, SOCK_STREAM, 0)};
        int late = socket(AF_INET, SOCK_STREAM, 0), half = socket(AF_INET6, SOCK_STREAM, 0);
        if (connect(fd[0], (struct sockaddr *)&a4, l4) || connect(fd[1], (struct sockaddr *)&a6, l6) ||
            connect(half, (struct sockaddr *)&a6, l6))
            die("connect");
        write_all(half, "bye", 3);
        shutdown(half, SHUT_WR);
        if (connect(late, (struct sockaddr *)&a4, l4))
            die("connect late");
        for (long r = 0; r < rounds; r++) {
            exchange(fd, 1, r, 1, r > 0);
            sleep_ms(delay);
        }
        exchange(fd, 1, rounds, 0, 1);
        char hello[8] = {0};
        read_all(late, hello, 7);
        char summary[128];
        uint32_t n = (uint32_t)snprintf(summary, sizeof summary, "child: %s, errors %ld, sum %016llx", hello, errors,
                                        (unsigned long long)sum);
        write_all(fd[0], (char *)&n, sizeof n);
        write_all(fd[0], summary, n);
        char last;
        read_all(fd[0], &last, 1); /* the parent has read the summary */
        return 0;
    }
    int fd[2] = {accept(s4, NULL, NULL), accept(s6, NULL, NULL)};
    int half = accept(s6, NULL, NULL);
    if (fd[0] < 0 || fd[1] < 0 || half < 0)
        die("accept");
    int one = 1, idle = 17, intvl = 5, cnt = 3, rcv = 96 * 1024;
    setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd[1], SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd[1], IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd[1], IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd[1], IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd[1], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    fcntl(fd[1], F_SETFL, fcntl(fd[1], F_GETFL) | O_NONBLOCK);
    for (long r = 0; r < rounds; r++) {
        exchange(fd, 0, r, 1, r > 0);
        char o4[160], o6[160];
        describe(fd[0], o4, sizeof o4);
        describe(fd[1], o6, sizeof o6);
        printf("round %ld: errors %ld, sum %016llx; v4 %s; v6 %s\n", r, errors, (unsigned long long)sum, o4, o6);
        sleep_ms(delay);
    }
    exchange(fd, 0, rounds, 0, 1);
    char bye[8] = {0};
    read_all(half, bye, 3);
    ssize_t eof = read(half, bye + 3, 1);
    int late = accept(s4, NULL, NULL);
    if (late < 0)
        die("accept late");
    write_all(late, "late-ok", 7);
    uint32_t n = 0;
    char summary[129] = {0};
    read_all(fd[0], (char *)&n, sizeof n);
    read_all(fd[0], summary, n < 128 ? n : 128);
    printf("%s\n", summary);
    write_all(fd[0], "k", 1);
    int status = 0;
    waitpid(child, &status, 0);
    printf("parent: half-closed got \"%s\" then %s; errors %ld, sum %016llx; child exit %d\n", bye,
           eof == 0 ? "EOF" : "more", errors, (unsigned long long)sum, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
