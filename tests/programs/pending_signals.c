/* Pending signals and a POSIX timer across a checkpoint (issue 11 item 6).
 * usage: pending_signals [rounds=30] [interval_ms=100]
 * At start it blocks its signals and leaves pending: for the process
 * (kill SIGUSR1; sigqueue RTMIN+1 with values 1, 2, 3), for the main thread
 * (tgkill SIGUSR2; pthread_sigqueue RTMIN+1 value 100) and for a worker
 * thread (pthread_sigqueue RTMIN+2 values 7, 8). Each round then waits for
 * one tick of a periodic timer_create timer (RTMIN+3, sigev value 77). At the
 * end each thread takes what is pending for it, printing signal, code and
 * value in the kernel's order (its own queue first, then the process's). A
 * restart that loses a signal, a value, the thread a signal was for, or the
 * timer (or its id) prints something else. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "prog_util.h"

static int drain_pipe[2];

static const char *name(int sig)
{
    static char buf[32];
    if (sig == SIGUSR1)
        return "USR1";
    if (sig == SIGUSR2)
        return "USR2";
    snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
    return buf;
}

/* Takes and prints every signal of `set` pending for the caller. */
static void take_all(const char *who, const sigset_t *set)
{
    struct timespec zero = {0, 0};
    siginfo_t info;
    int sig;
    while ((sig = sigtimedwait(set, &info, &zero)) > 0) {
        printf("%s took %s, code %s, value %d\n", who, name(sig),
               info.si_code == SI_QUEUE ? "SI_QUEUE" : info.si_code == SI_TKILL ? "SI_TKILL"
                                                     : info.si_code == SI_USER  ? "SI_USER"
                                                                                : "other",
               info.si_code == SI_QUEUE ? info.si_value.sival_int : 0);
    }
    printf("%s: nothing left pending\n", who);
    fflush(stdout);
}

static void *worker(void *arg)
{
    (void)arg;
    char c;
    while (read(drain_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGRTMIN + 2);
    take_all("worker", &mine);
    return NULL;
}

int main(int argc, char **argv)
{
    note_start("pending_signals");
    long rounds = arg_long(argc, argv, 1, 30);
    long interval_ms = arg_long(argc, argv, 2, 100);
    sigset_t blocked;
    sigemptyset(&blocked);
    int sigs[] = {SIGUSR1, SIGUSR2, SIGRTMIN + 1, SIGRTMIN + 2, SIGRTMIN + 3};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&blocked, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    if (pipe(drain_pipe) != 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);

    kill(getpid(), SIGUSR1);
    for (int v = 1; v <= 3; v++)
        sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = v});
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
    pthread_sigqueue(pthread_self(), SIGRTMIN + 1, (union sigval){.sival_int = 100});
    pthread_sigqueue(t, SIGRTMIN + 2, (union sigval){.sival_int = 7});
    pthread_sigqueue(t, SIGRTMIN + 2, (union sigval){.sival_int = 8});

    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 3;
    sev.sigev_value.sival_int = 77;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0)
        return 1;
    struct itimerspec every = {{interval_ms / 1000, (interval_ms % 1000) * 1000000L},
                               {interval_ms / 1000, (interval_ms % 1000) * 1000000L}};
    timer_settime(timer, 0, &every, NULL);

    sigset_t tick;
    sigemptyset(&tick);
    sigaddset(&tick, SIGRTMIN + 3);
    for (long i = 0; i < rounds; i++) {
        struct timespec wait = {5, 0};
        siginfo_t info;
        int sig;
        do
            sig = sigtimedwait(&tick, &info, &wait);
        while (sig < 0 && errno == EINTR);
        struct itimerspec left;
        int same = sig > 0 && info.si_code == SI_TIMER && info.si_value.sival_int == 77 &&
                   info.si_timerid == (int)(intptr_t)timer && timer_gettime(timer, &left) == 0 &&
                   left.it_interval.tv_nsec == every.it_interval.tv_nsec;
        printf("round %ld: %s\n", i, sig < 0 ? "TIMER LOST" : same ? "timer tick (value 77, same timer)" : "WRONG tick");
        fflush(stdout);
    }
    timer_delete(timer);

    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGUSR1);
    sigaddset(&mine, SIGUSR2);
    sigaddset(&mine, SIGRTMIN + 1);
    take_all("main", &mine);
    ssize_t ignored = write(drain_pipe[1], "d", 1);
    (void)ignored;
    pthread_join(t, NULL);
    return 0;
}
