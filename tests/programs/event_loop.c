/* Event loop over eventfd, timerfd, signalfd, a pipe and a child process,
 * with two nested epolls.
 * usage: event_loop [iterations=30] [pause_ms=30]
 *
 * Outer epoll: the inner epoll (data 10), a periodic CLOCK_MONOTONIC timerfd
 * (11), a semaphore eventfd registered EPOLLONESHOT (12), a pidfd of the
 * child (13). Inner epoll: a counter eventfd, edge-triggered (1), the read
 * end of a pipe from the child (2), a signalfd for SIGUSR1 (3).
 * Each iteration: waits for a timer tick; adds to the counter eventfd and
 * expects one edge through both epolls; checks the oneshot item fires once
 * and stays disabled until re-armed; raises SIGUSR1 and reads it from the
 * signalfd; asks the child (through an eventfd shared across fork) for a
 * square and reads it from the pipe. State that lives across the whole run
 * and is checked at the end: a counter eventfd bumped every iteration, a
 * semaphore eventfd taken from every iteration, a timerfd that expired once
 * and was never read, a relative and an absolute (CLOCK_REALTIME) one-hour
 * timer. At the end the child is told to exit and the pidfd must report it.
 * Any mismatch prints FAIL. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prog_util.h"

static int g_tick = -1;

static void fail(long iter, const char *what)
{
    printf("FAIL iteration %ld: %s\n", iter, what);
    fflush(stdout);
    exit(1);
}

/* epoll_wait that hides the checkpoint signal's EINTR. */
static int wait_one(int ep, int timeout_ms, uint64_t *data)
{
    struct epoll_event ev;
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 1)
            *data = ev.data.u64;
        return n;
    }
}

/* Waits on the outer epoll until `want` is reported (others are noted). */
static void expect_outer(int outer, uint64_t want, long iter, int *saw_tick)
{
    for (int tries = 0; tries < 1000; ++tries) {
        uint64_t d = 0;
        if (wait_one(outer, 3000, &d) != 1)
            fail(iter, "outer epoll reported nothing within 3 s");
        if (d == want)
            return;
        if (d == 11) { /* level-triggered: take the expirations, or it reports again */
            uint64_t n;
            *saw_tick = 1;
            while (read(g_tick, &n, sizeof n) < 0 && errno == EINTR) {
            }
            continue;
        }
        if (d != 10) {
            printf("FAIL iteration %ld: outer epoll reported %llu, wanted %llu\n", iter,
                   (unsigned long long)d, (unsigned long long)want);
            exit(1);
        }
        if (want == 10)
            return;
    }
    fail(iter, "too many unrelated events");
}

static uint64_t read_u64(int fd, long iter, const char *what)
{
    uint64_t v;
    for (;;) {
        ssize_t n = read(fd, &v, sizeof v);
        if (n == sizeof v)
            return v;
        if (n < 0 && errno == EINTR)
            continue;
        fail(iter, what);
    }
}

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {events, {.u64 = data}};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        fail(-1, "epoll_ctl ADD");
}

static void child_loop(int req, int pipe_w)
{
    for (;;) {
        uint64_t v = read_u64(req, -1, "child: read request");
        if (v == UINT64_MAX - 1)
            _exit(0);
        uint64_t sq = v * v;
        if (write(pipe_w, &sq, sizeof sq) != sizeof sq)
            _exit(3);
    }
}

int main(int argc, char **argv)
{
    note_start("event_loop");
    long iterations = arg_long(argc, argv, 1, 30);
    long pause_ms = arg_long(argc, argv, 2, 30);

    int req = eventfd(0, EFD_CLOEXEC);
    int pipefd[2];
    if (req < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0)
        fail(-1, "setup");
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a parent that FAILs must not leave us blocked */
        int fl = fcntl(pipefd[1], F_GETFL);
        fcntl(pipefd[1], F_SETFL, fl & ~O_NONBLOCK);
        child_loop(req, pipefd[1]);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    int counter = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int sem = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
    int persist = eventfd(0, EFD_NONBLOCK);
    int persist_sem = eventfd(1000, EFD_SEMAPHORE | EFD_NONBLOCK);
    int tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    g_tick = tick;
    int unread = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
    int rel_hour = timerfd_create(CLOCK_MONOTONIC, 0);
    int abs_hour = timerfd_create(CLOCK_REALTIME, 0);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sig = signalfd(-1, &mask, SFD_NONBLOCK);
    if (pidfd < 0 || counter < 0 || sem < 0 || tick < 0 || unread < 0 || sig < 0 || rel_hour < 0 || abs_hour < 0)
        fail(-1, "setup of the event fds");
    struct itimerspec its = {{0, 5000000}, {0, 5000000}};
    timerfd_settime(tick, 0, &its, NULL);
    struct itimerspec once = {{0, 0}, {0, 1000000}};
    timerfd_settime(unread, 0, &once, NULL);
    struct itimerspec hour = {{0, 0}, {3600, 0}};
    timerfd_settime(rel_hour, 0, &hour, NULL);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec abs = {{0, 0}, {now.tv_sec + 3600, now.tv_nsec}};
    timerfd_settime(abs_hour, TFD_TIMER_ABSTIME, &abs, NULL);
    int64_t abs_deadline = (int64_t)(now.tv_sec + 3600) * 1000000000LL + now.tv_nsec;

    int inner = epoll_create1(EPOLL_CLOEXEC);
    int outer = epoll_create1(0);
    add(inner, counter, EPOLLIN | EPOLLET, 1);
    add(inner, pipefd[0], EPOLLIN, 2);
    add(inner, sig, EPOLLIN, 3);
    add(outer, inner, EPOLLIN, 10);
    add(outer, tick, EPOLLIN, 11);
    add(outer, sem, EPOLLIN | EPOLLONESHOT, 12);
    add(outer, pidfd, EPOLLIN, 13);

    for (long i = 0; i < iterations; ++i) {
        int saw_tick = 0;
        expect_outer(outer, 11, i, &saw_tick);
        uint64_t ticks = read_u64(tick, i, "read timerfd");
        if (ticks < 1)
            fail(i, "timer tick without expirations");

        /* Edge-triggered counter, seen through the nested epoll. */
        uint64_t add_v = (uint64_t)i + 1;
        if (write(counter, &add_v, sizeof add_v) != sizeof add_v)
            fail(i, "write counter");
        expect_outer(outer, 10, i, &saw_tick);
        uint64_t d = 0;
        if (wait_one(inner, 3000, &d) != 1 || d != 1)
            fail(i, "inner epoll did not report the counter");
        if (read_u64(counter, i, "read counter") != add_v)
            fail(i, "counter eventfd value");
        if (wait_one(inner, 0, &d) != 0)
            fail(i, "edge reported twice");

        /* Oneshot: fires once, then stays disabled until re-armed. */
        uint64_t two = 2;
        if (write(sem, &two, sizeof two) != sizeof two)
            fail(i, "write semaphore");
        expect_outer(outer, 12, i, &saw_tick);
        if (read_u64(sem, i, "read semaphore") != 1)
            fail(i, "semaphore read is not 1");
        for (int k = 0; k < 3; ++k)
            if (wait_one(outer, 0, &d) == 1 && d == 12)
                fail(i, "oneshot item fired again without being re-armed");
        if (read_u64(sem, i, "second semaphore read") != 1)
            fail(i, "second semaphore read is not 1");
        uint64_t junk;
        if (read(sem, &junk, sizeof junk) >= 0 || errno != EAGAIN)
            fail(i, "semaphore not empty after two reads");
        struct epoll_event rearm = {EPOLLIN | EPOLLONESHOT, {.u64 = 12}};
        if (epoll_ctl(outer, EPOLL_CTL_MOD, sem, &rearm) != 0)
            fail(i, "re-arming the oneshot item");

        /* A blocked signal through the signalfd. */
        kill(getpid(), SIGUSR1);
        expect_outer(outer, 10, i, &saw_tick);
        if (wait_one(inner, 3000, &d) != 1 || d != 3)
            fail(i, "inner epoll did not report the signalfd");
        struct signalfd_siginfo si;
        if (read(sig, &si, sizeof si) != sizeof si || si.ssi_signo != SIGUSR1)
            fail(i, "signalfd did not deliver SIGUSR1");

        /* The child, through an eventfd shared across fork and a pipe. */
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0)
            fail(i, "pidfd does not reach the child");
        if (write(req, &add_v, sizeof add_v) != sizeof add_v)
            fail(i, "write request");
        expect_outer(outer, 10, i, &saw_tick);
        if (wait_one(inner, 3000, &d) != 1 || d != 2)
            fail(i, "inner epoll did not report the pipe");
        if (read_u64(pipefd[0], i, "read square") != add_v * add_v)
            fail(i, "child's square");

        uint64_t one = 1;
        if (write(persist, &one, sizeof one) != sizeof one || read_u64(persist_sem, i, "take semaphore") != 1)
            fail(i, "persistent eventfds");
        printf("iteration %ld ok: counter %llu, square %llu\n", i, (unsigned long long)add_v,
               (unsigned long long)(add_v * add_v));
        fflush(stdout);
        sleep_ms(pause_ms);
    }

    if (read_u64(persist, -1, "read persistent counter") != (uint64_t)iterations)
        fail(-1, "persistent counter eventfd lost counts");
    long left = 0;
    uint64_t junk;
    while (read(persist_sem, &junk, sizeof junk) == sizeof junk)
        ++left;
    if (left != 1000 - iterations)
        fail(-1, "persistent semaphore eventfd lost its count");
    if (read_u64(unread, -1, "unread timerfd") != 1)
        fail(-1, "the expiration nobody read is gone");
    struct itimerspec cur;
    timerfd_gettime(rel_hour, &cur);
    if (cur.it_value.tv_sec < 3000 || cur.it_value.tv_sec >= 3600)
        fail(-1, "the relative one-hour timer lost its remaining time");
    timerfd_gettime(abs_hour, &cur);
    int64_t left_ns = (int64_t)cur.it_value.tv_sec * 1000000000LL + cur.it_value.tv_nsec;
    int64_t expect_ns = abs_deadline - now_ns(CLOCK_REALTIME);
    if (left_ns <= 0 || llabs(left_ns - expect_ns) > 50000000LL)
        fail(-1, "the absolute timer does not keep its deadline");

    uint64_t bye = UINT64_MAX - 1;
    if (write(req, &bye, sizeof bye) != sizeof bye)
        fail(-1, "telling the child to exit");
    int saw_tick = 0;
    expect_outer(outer, 13, -1, &saw_tick);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED) != 0 || info.si_status != 0)
        fail(-1, "waiting for the child through its pidfd");
    printf("done: %ld iterations, child exited 0\n", iterations);
    return 0;
}
