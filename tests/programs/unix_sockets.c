/* UNIX sockets between two processes, with bytes in flight in both
 * directions at every moment: each side writes round r's records, then reads
 * round r-1's. Every record carries its direction, channel, round and index
 * and a length that varies, and the reader checks each byte and (for
 * datagram and seqpacket) each boundary, so a byte lost, duplicated or
 * reordered by a checkpoint changes the output ("MISMATCH ...").
 *
 * Channels: socketpair stream, seqpacket and datagram; a stream connection
 * through a listener on a relative path ("uds.sock" in the cwd); datagram
 * sockets with abstract names; a second connection left in the listener's
 * backlog until the end; a half-closed socketpair (the child shut down its
 * writing side after one message).
 *
 * usage: unix_sockets ROUNDS DELAY_MS */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "prog_util.h"

enum { STREAM, SEQPACKET, DGRAM, NAMED, ABSTRACT, CHANNELS };
static const char *channel_name[CHANNELS] = {"stream", "seqpacket", "dgram", "named", "abstract"};

static int fd_of[2][CHANNELS]; /* [side][channel]: side 0 parent, 1 child */
static struct sockaddr_un abstract_addr[2];
static socklen_t abstract_len[2];
static uint64_t sums[2];
static long errors[2];

static void die(const char *what)
{
    fprintf(stderr, "unix_sockets: %s: %s\n", what, strerror(errno));
    exit(1);
}

static size_t record_len(int channel, long round, int index)
{
    return 24 + (size_t)((round * 13 + index * 7 + channel * 5) % 61);
}

static void fill_record(char *buf, size_t len, int side, int channel, long round, int index)
{
    int n = snprintf(buf, len, "%c%d r%ld i%d:", side ? 'C' : 'P', channel, round, index);
    for (size_t k = (size_t)n; k < len; k++)
        buf[k] = (char)('a' + (round + index + (long)k) % 26);
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
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
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stdout, "MISMATCH: stream ended early\n");
            exit(1);
        }
        p += n;
        len -= (size_t)n;
    }
}

enum { RECORDS = 4 }; /* two rounds of datagrams stay under net.unix.max_dgram_qlen (10) */

static void send_round(int side, long round)
{
    char buf[128];
    for (int c = 0; c < CHANNELS; c++)
        for (int i = 0; i < RECORDS; i++) {
            size_t len = record_len(c, round, i);
            fill_record(buf, len, side, c, round, i);
            int fd = fd_of[side][c];
            ssize_t n;
            if (c == STREAM || c == NAMED) {
                write_all(fd, buf, len);
                continue;
            }
            do {
                if (c == ABSTRACT)
                    n = sendto(fd, buf, len, 0, (struct sockaddr *)&abstract_addr[!side], abstract_len[!side]);
                else
                    n = send(fd, buf, len, 0);
            } while (n < 0 && errno == EINTR);
            if (n != (ssize_t)len)
                die("send");
        }
    /* A larger burst on the stream socketpair: more bytes in flight. */
    static char burst[16384];
    for (size_t k = 0; k < sizeof burst; k++)
        burst[k] = (char)((round * 31 + (long)k * (side + 3)) & 0xff);
    write_all(fd_of[side][STREAM], burst, sizeof burst);
}

static void check(int side, int c, long round, int i, const char *got, size_t got_len)
{
    char want[128];
    size_t len = record_len(c, round, i);
    fill_record(want, len, !side, c, round, i);
    if (got_len != len || memcmp(got, want, len) != 0) {
        errors[side]++;
        printf("MISMATCH side %d %s round %ld record %d: got %zu bytes \"%.*s\"\n", side, channel_name[c], round, i,
               got_len, (int)(got_len < 40 ? got_len : 40), got);
    }
    sums[side] = checksum_bytes(sums[side], got, got_len);
}

static void receive_round(int side, long round)
{
    char buf[256];
    for (int c = 0; c < CHANNELS; c++)
        for (int i = 0; i < RECORDS; i++) {
            size_t len = record_len(c, round, i);
            int fd = fd_of[side][c];
            if (c == STREAM || c == NAMED) {
                read_all(fd, buf, len);
                check(side, c, round, i, buf, len);
                continue;
            }
            ssize_t n;
            do
                n = recv(fd, buf, sizeof buf, 0);
            while (n < 0 && errno == EINTR);
            if (n < 0)
                die("recv");
            check(side, c, round, i, buf, (size_t)n);
        }
    static char burst[16384], want[16384];
    read_all(fd_of[side][STREAM], burst, sizeof burst);
    for (size_t k = 0; k < sizeof want; k++)
        want[k] = (char)((round * 31 + (long)k * (!side + 3)) & 0xff);
    if (memcmp(burst, want, sizeof want) != 0) {
        errors[side]++;
        printf("MISMATCH side %d burst of round %ld\n", side, round);
    }
    sums[side] = checksum_bytes(sums[side], burst, sizeof burst);
}

/* Abstract names are shared by the whole network namespace: make them
 * unique per working directory (each test has its own). */
static void make_abstract(int side, uint64_t tag)
{
    memset(&abstract_addr[side], 0, sizeof abstract_addr[side]);
    abstract_addr[side].sun_family = AF_UNIX;
    int n = snprintf(abstract_addr[side].sun_path + 1, sizeof abstract_addr[side].sun_path - 1,
                     "reprise-test-unix-sockets-%016llx-%d", (unsigned long long)tag, side);
    abstract_len[side] = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int main(int argc, char **argv)
{
    long rounds = arg_long(argc, argv, 1, 30);
    long delay = arg_long(argc, argv, 2, 40);
    note_start("unix_sockets");
    setvbuf(stdout, NULL, _IOLBF, 0);

    int sp[2], qp[2], dp[2], hp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, qp) ||
        socketpair(AF_UNIX, SOCK_DGRAM, 0, dp) || socketpair(AF_UNIX, SOCK_STREAM, 0, hp))
        die("socketpair");
    struct sockaddr_un path_addr = {.sun_family = AF_UNIX};
    strcpy(path_addr.sun_path, "uds.sock");
    unlink("uds.sock");
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&path_addr, sizeof path_addr) || listen(listener, 4))
        die("listen on uds.sock");
    char cwd[4096] = "";
    if (!getcwd(cwd, sizeof cwd))
        die("getcwd");
    uint64_t tag = checksum_bytes(CHECKSUM_INIT, cwd, strlen(cwd));
    make_abstract(0, tag);
    make_abstract(1, tag);
    for (int side = 0; side < 2; side++) {
        fd_of[side][ABSTRACT] = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (bind(fd_of[side][ABSTRACT], (struct sockaddr *)&abstract_addr[side], abstract_len[side]))
            die("bind abstract");
    }
    pid_t child = fork();
    if (child < 0)
        die("fork");
    int side = child == 0;
    if (side == 1) {
        close(sp[0]), close(qp[0]), close(dp[0]), close(hp[0]), close(listener), close(fd_of[0][ABSTRACT]);
        fd_of[1][STREAM] = sp[1], fd_of[1][SEQPACKET] = qp[1], fd_of[1][DGRAM] = dp[1];
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int late = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&path_addr, sizeof path_addr) ||
            connect(late, (struct sockaddr *)&path_addr, sizeof path_addr))
            die("connect");
        fd_of[1][NAMED] = c;
        write_all(hp[1], "bye", 3);
        shutdown(hp[1], SHUT_WR);
        for (long r = 0; r < rounds; r++) {
            send_round(1, r);
            if (r > 0)
                receive_round(1, r - 1);
            sleep_ms(delay);
        }
        receive_round(1, rounds - 1);
        char hello[16] = {0};
        read_all(late, hello, 7);
        /* The parent prints this, so the output order is fixed. */
        char summary[128];
        uint32_t n = (uint32_t)snprintf(summary, sizeof summary, "child: %s, rounds %ld, errors %ld, sum %016llx",
                                        hello, rounds, errors[1], (unsigned long long)sums[1]);
        write_all(c, (const char *)&n, sizeof n);
        write_all(c, summary, n);
        return 0;
    }
    close(sp[1]), close(qp[1]), close(dp[1]), close(hp[1]), close(fd_of[1][ABSTRACT]);
    fd_of[0][STREAM] = sp[0], fd_of[0][SEQPACKET] = qp[0], fd_of[0][DGRAM] = dp[0];
    fd_of[0][NAMED] = accept(listener, NULL, NULL);
    if (fd_of[0][NAMED] < 0)
        die("accept");
    struct sockaddr_un name;
    socklen_t name_len = sizeof name;
    getsockname(fd_of[0][NAMED], (struct sockaddr *)&name, &name_len);
    printf("accepted on %s\n", name.sun_path);
    for (long r = 0; r < rounds; r++) {
        send_round(0, r);
        if (r > 0)
            receive_round(0, r - 1);
        printf("round %ld: errors %ld, sum %016llx\n", r, errors[0], (unsigned long long)sums[0]);
        sleep_ms(delay);
    }
    receive_round(0, rounds - 1);
    char bye[8] = {0};
    read_all(hp[0], bye, 3);
    ssize_t eof = read(hp[0], bye + 3, 1);
    int late = accept(listener, NULL, NULL);
    if (late < 0)
        die("accept late");
    write_all(late, "late-ok", 7);
    uint32_t n = 0;
    char summary[129] = {0};
    read_all(fd_of[0][NAMED], (char *)&n, sizeof n);
    read_all(fd_of[0][NAMED], summary, n < 128 ? n : 128);
    printf("%s\n", summary);
    int status = 0;
    waitpid(child, &status, 0);
    printf("parent: half-closed got \"%s\" then %s; rounds %ld, errors %ld, sum %016llx; child exit %d\n", bye,
           eof == 0 ? "EOF" : "more", rounds, errors[0], (unsigned long long)sums[0],
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    unlink("uds.sock");
    return 0;
}
