/* Signal state survival test.
 * usage: signals_timer [iterations=30] [tick_ms=10]
 *
 * Sets up: an SA_SIGINFO handler for SIGUSR1 (queued with a value), a plain
 * handler for SIGUSR2, SIGALRM counting ticks of a periodic ITIMER_REAL, and
 * a blocked mask holding SIGUSR2 and SIGWINCH. Each iteration:
 *  - waits for 3 more timer ticks (fails if the timer stopped: a restart
 *    that lost the itimer would hang here, so there is a 3 s deadline);
 *  - sigqueue()s SIGUSR1 with value = iteration and checks the handler saw
 *    that value and si_code SI_QUEUE;
 *  - raises SIGUSR2, checks it stays pending (mask intact, handler not run),
 *    unblocks it briefly so the plain handler runs exactly once, re-blocks;
 *  - checks the current mask and the itimer interval.
 * The printed lines contain only deterministic facts. */
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "prog_util.h"

static volatile sig_atomic_t ticks;
static volatile sig_atomic_t usr1_value = -1;
static volatile sig_atomic_t usr1_code_ok;
static volatile sig_atomic_t usr2_count;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
}

static void on_usr1(int sig, siginfo_t *info, void *ucontext)
{
    (void)sig;
    (void)ucontext;
    usr1_value = info->si_value.sival_int;
    usr1_code_ok = info->si_code == SI_QUEUE && info->si_pid == getpid();
}

static void on_usr2(int sig)
{
    (void)sig;
    usr2_count++;
}

static void fail(long iter, const char *what)
{
    printf("FAIL iteration %ld: %s\n", iter, what);
    fflush(stdout);
    exit(1);
}

static int wait_ticks(sig_atomic_t target)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + 3000000000LL;
    while (ticks < target) {
        if (now_ns(CLOCK_MONOTONIC) > deadline)
            return -1;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL); /* interrupted by SIGALRM: that is the point */
    }
    return 0;
}

int main(int argc, char **argv)
{
    note_start("signals_timer");
    long iterations = arg_long(argc, argv, 1, 30);
    long tick_ms = arg_long(argc, argv, 2, 10);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);

    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    sigaddset(&blocked, SIGWINCH);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    struct itimerval timer = {{0, tick_ms * 1000}, {0, tick_ms * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);

    for (long iter = 0; iter < iterations; iter++) {
        if (wait_ticks(ticks + 3) != 0)
            fail(iter, "interval timer stopped ticking");

        union sigval value = {.sival_int = (int)iter};
        if (sigqueue(getpid(), SIGUSR1, value) != 0)
            fail(iter, "sigqueue failed");
        /* a signal sent to oneself and not blocked is delivered before sigqueue returns */
        if (usr1_value != iter || !usr1_code_ok)
            fail(iter, "SA_SIGINFO handler did not see the queued value");

        int before = usr2_count;
        raise(SIGUSR2);
        sigset_t pending;
        sigpending(&pending);
        if (!sigismember(&pending, SIGUSR2) || usr2_count != before)
            fail(iter, "SIGUSR2 was not held by the blocked mask");
        sigset_t only_usr2;
        sigemptyset(&only_usr2);
        sigaddset(&only_usr2, SIGUSR2);
        sigprocmask(SIG_UNBLOCK, &only_usr2, NULL);
        sigprocmask(SIG_BLOCK, &only_usr2, NULL);
        if (usr2_count != before + 1)
            fail(iter, "plain SIGUSR2 handler did not run once on unblock");

        sigset_t current;
        sigprocmask(SIG_BLOCK, NULL, &current);
        struct itimerval now;
        getitimer(ITIMER_REAL, &now);
        printf("iter %ld: usr1=%d usr2=%d mask(usr2,winch,usr1)=%d%d%d interval=%ldus\n", iter,
               (int)usr1_value, (int)usr2_count, sigismember(&current, SIGUSR2),
               sigismember(&current, SIGWINCH), sigismember(&current, SIGUSR1),
               (long)now.it_interval.tv_usec + (long)now.it_interval.tv_sec * 1000000L);
        fflush(stdout);
    }
    printf("signals_timer done\n");
    return 0;
}
