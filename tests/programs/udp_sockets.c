/* UDP over loopback, IPv4 and IPv6, between two processes, with datagrams
 * queued in both directions at every moment (each side sends round r, then
 * receives round r-1). Each datagram is checked: its length, every byte,
 * and its source address (the same peer as in round 0), so a lost,
 * duplicated, merged or misaddressed datagram changes the output. The IPv4
 * client socket is connect()ed, the IPv6 one uses sendto; the server side
 * answers each with sendto to the address recvfrom gave.
 *
 * usage: udp_sockets ROUNDS DELAY_MS */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "prog_util.h"

enum { PER_ROUND = 4 };

static void die(const char *what)
{
    fprintf(stderr, "udp_sockets: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int bound(int family, struct sockaddr_storage *a, socklen_t *len)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        ((struct sockaddr_in *)a)->sin_family = AF_INET;
        ((struct sockaddr_in *)a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)a)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)a)->sin6_addr = in6addr_loopback;
        *len = sizeof(struct sockaddr_in6);
    }
    if (bind(fd, (struct sockaddr *)a, *len) || getsockname(fd, (struct sockaddr *)a, len))
        die("bind");
    return fd;
}

static size_t dgram_len(int side, int c, long r, int i) { return 20 + (size_t)((r * 17 + i * 11 + c * 5 + side) % 300); }

static void fill(char *buf, size_t len, int side, int c, long r, int i)
{
    int n = snprintf(buf, len, "%c%d r%ld i%d:", side ? 'C' : 'P', c, r, i);
    for (size_t k = (size_t)n; k < len; k++)
        buf[k] = (char)('A' + (r + i + (long)k * 3) % 26);
}

static long errors;
static uint64_t sum = CHECKSUM_INIT;
static struct sockaddr_storage peer_seen[2];
static socklen_t peer_seen_len[2];

static void send_round(int fd[2], struct sockaddr_storage *to, socklen_t *to_len, int side, long r)
{
    char buf[512];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < PER_ROUND; i++) {
            size_t len = dgram_len(side, c, r, i);
            fill(buf, len, side, c, r, i);
            ssize_t n;
            do
                n = (side == 1 && c == 0) ? send(fd[c], buf, len, 0)
                                          : sendto(fd[c], buf, len, 0, (struct sockaddr *)&to[c], to_len[c]);
            while (n < 0 && errno == EINTR);
            if (n != (ssize_t)len)
                die("send");
        }
}

static void receive_round(int fd[2], int side, long r)
{
    char buf[512], want[512];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < PER_ROUND; i++) {
            struct sockaddr_storage from;
            socklen_t from_len = sizeof from;
            ssize_t n;
            do
                n = recvfrom(fd[c], buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
            while (n < 0 && errno == EINTR);
            if (n < 0)
                die("recv");
            size_t len = dgram_len(!side, c, r, i);
            fill(want, len, !side, c, r, i);
            if ((size_t)n != len || memcmp(buf, want, len) != 0) {
                errors++;
                printf("MISMATCH side %d channel %d round %ld datagram %d: %zd bytes \"%.20s\"\n", side, c, r, i, n,
                       buf);
            }
            if (peer_seen_len[c] == 0) {
                peer_seen[c] = from;
                peer_seen_len[c] = from_len;
            } else if (from_len != peer_seen_len[c] || memcmp(&from, &peer_seen[c], from_len) != 0) {
                errors++;
                printf("MISMATCH side %d channel %d round %ld: datagram from another address\n", side, c, r);
            }
            sum = checksum_bytes(sum, buf, (size_t)n);
        }
}

int main(int argc, char **argv)
{
    long rounds = arg_long(argc, argv, 1, 30), delay = arg_long(argc, argv, 2, 40);
    note_start("udp_sockets");
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sockaddr_storage server[2];
    socklen_t server_len[2];
    int sfd[2] = {bound(AF_INET, &server[0], &server_len[0]), bound(AF_INET6, &server[1], &server_len[1])};
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        struct sockaddr_storage mine[2];
        socklen_t mine_len[2];
        int fd[2] = {bound(AF_INET, &mine[0], &mine_len[0]), bound(AF_INET6, &mine[1], &mine_len[1])};
        close(sfd[0]), close(sfd[1]);
        if (connect(fd[0], (struct sockaddr *)&server[0], server_len[0]))
            die("connect");
        for (long r = 0; r < rounds; r++) {
            send_round(fd, server, server_len, 1, r);
            if (r > 0)
                receive_round(fd, 1, r - 1);
            sleep_ms(delay);
        }
        receive_round(fd, 1, rounds - 1);
        char summary[128];
        int n = snprintf(summary, sizeof summary, "child: errors %ld, sum %016llx", errors, (unsigned long long)sum);
        send(fd[0], summary, (size_t)n, 0);
        return 0;
    }
    for (long r = 0; r < rounds; r++) {
        if (r > 0) {
            receive_round(sfd, 0, r - 1);
        } else {
            /* Learn the child's addresses from its first datagrams, without consuming them. */
            for (int c = 0; c < 2; c++) {
                char b;
                peer_seen_len[c] = sizeof peer_seen[c];
                while (recvfrom(sfd[c], &b, 1, MSG_PEEK, (struct sockaddr *)&peer_seen[c], &peer_seen_len[c]) < 0 &&
                       errno == EINTR)
                    peer_seen_len[c] = sizeof peer_seen[c];
            }
        }
        send_round(sfd, peer_seen, peer_seen_len, 0, r);
        printf("round %ld: errors %ld, sum %016llx\n", r, errors, (unsigned long long)sum);
        sleep_ms(delay);
    }
    receive_round(sfd, 0, rounds - 1);
    char summary[129] = {0};
    ssize_t n;
    do
        n = recv(sfd[0], summary, 128, 0);
    while (n < 0 && errno == EINTR);
    int status = 0;
    waitpid(child, &status, 0);
    printf("%s\nparent: errors %ld, sum %016llx; child exit %d\n", summary, errors, (unsigned long long)sum,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
