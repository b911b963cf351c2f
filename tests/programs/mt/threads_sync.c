// threads_sync [THREADS=8] [ROUNDS=40] [DELAY_MS=25]
//
// Multi-threaded test subject for the checkpoint/restart engine. THREADS
// pthreads take turns (in thread order) through one mutex and condition
// variable, then meet the main thread at a pthread_barrier, once per round.
// Each thread keeps __thread counters and a name set with pthread_setname_np.
// Every round:
//   - each thread raise()s SIGUSR1 at itself (tgkill with glibc's cached tid),
//     checks that gettid() still equals the tid it saw at start, and reads its
//     own name back through pthread_getname_np (/proc/self/task/TID/comm);
//   - the main thread checks pthread_kill(thread, 0) == 0 for every thread and
//     sends each one SIGUSR2 with pthread_kill; the handler counts per thread.
// At the end the main thread pthread_joins every thread and prints totals.
//
// Output is deterministic for a given argument set. Lines that contain process
// or thread ids start with "ids: " so that a comparison that allows different
// pids (cr_restart --no-restore-pid) can drop them. A detected inconsistency
// prints a line starting with "ERROR" and makes the exit status 1; otherwise
// the program exits with 42.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static int nthreads = 8;
static int rounds = 40;
static int delay_ms = 25;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static pthread_barrier_t round_end;
static int current_round = -1; // guarded by lock
static int turn = 0;           // guarded by lock
static long shared_total = 0;  // guarded by lock
static volatile sig_atomic_t errors = 0;

static pthread_t threads[MAX_THREADS];
static pid_t start_tids[MAX_THREADS];
static pid_t end_tids[MAX_THREADS];
static int usr2_seen[MAX_THREADS]; // copied from the thread's __thread counter at exit

static __thread long local_count = 0;
static __thread volatile sig_atomic_t usr1_count = 0;
static __thread volatile sig_atomic_t usr2_count = 0;
static __thread int my_index = -1;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static void on_usr2(int sig)
{
    (void)sig;
    usr2_count++;
}

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(int ms)
{
    // An interrupted sleep (the checkpoint signal) simply ends early: the
    // output does not depend on timing.
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fail(const char *what, int thread)
{
    printf("ERROR %s (thread %d)\n", what, thread);
    errors = 1;
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    my_index = id;
    char name[16];
    snprintf(name, sizeof name, "worker-%02d", id);
    pthread_setname_np(pthread_self(), name);
    start_tids[id] = my_tid();
    pthread_barrier_wait(&started);

    for (int r = 0; r < rounds; r++) {
        pthread_mutex_lock(&lock);
        while (!(current_round == r && turn == id))
            pthread_cond_wait(&turn_changed, &lock);
        local_count += id + 1;
        shared_total += local_count;
        char got[16] = "";
        pthread_getname_np(pthread_self(), got, sizeof got);
        printf("round %d: thread %d (%s) local=%ld shared=%ld\n", r, id, got, local_count,
               shared_total);
        if (strcmp(got, name) != 0)
            fail("thread name changed", id);
        turn++;
        pthread_cond_broadcast(&turn_changed);
        pthread_mutex_unlock(&lock);

        // gettid() must stay the same across a restart, except with
        // cr_restart --no-restore-pid: compared through the "ids:" lines.
        int before = usr1_count;
        if (raise(SIGUSR1) != 0)
            fail("raise failed", id);
        if (usr1_count != before + 1)
            fail("raise(SIGUSR1) was not delivered to the raising thread", id);
        pthread_barrier_wait(&round_end);
    }
    // Every SIGUSR2 the main thread sent must arrive at this very thread.
    for (int spin = 0; usr2_count < rounds && spin < 5000; spin++)
        sleep_ms(1);
    usr2_seen[id] = usr2_count;
    end_tids[id] = my_tid();
    return (void *)local_count;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nthreads = atoi(argv[1]);
    if (argc > 2)
        rounds = atoi(argv[2]);
    if (argc > 3)
        delay_ms = atoi(argv[3]);
    if (nthreads < 1 || nthreads > MAX_THREADS || rounds < 1 || delay_ms < 0) {
        fprintf(stderr, "usage: threads_sync [THREADS(1-%d)] [ROUNDS] [DELAY_MS]\n", MAX_THREADS);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);

    pid_t pid = getpid(), tid = my_tid();
    printf("threads_sync: %d threads, %d rounds\n", nthreads, rounds);
    printf("ids: start pid=%d tid=%d gettid()==getpid(): %s\n", pid, tid,
           tid == pid ? "yes" : "no");
    pthread_barrier_init(&started, NULL, (unsigned)nthreads + 1);
    pthread_barrier_init(&round_end, NULL, (unsigned)nthreads + 1);

    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&threads[i], NULL, worker, (void *)(long)i) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    pthread_barrier_wait(&started);
    for (int i = 0; i < nthreads; i++)
        printf("ids: thread %d tid=%d\n", i, start_tids[i]);

    for (int r = 0; r < rounds; r++) {
        sleep_ms(delay_ms);
        pthread_mutex_lock(&lock);
        current_round = r;
        turn = 0;
        pthread_cond_broadcast(&turn_changed);
        pthread_mutex_unlock(&lock);
        pthread_barrier_wait(&round_end);
        if (raise(SIGUSR1) != 0)
            fail("raise failed", -1);
        for (int i = 0; i < nthreads; i++) {
            if (pthread_kill(threads[i], 0) != 0)
                fail("pthread_kill(thread, 0) failed", i);
            if (pthread_kill(threads[i], SIGUSR2) != 0)
                fail("pthread_kill(thread, SIGUSR2) failed", i);
        }
        printf("round %d done: shared=%ld\n", r, shared_total);
    }

    long total = 0;
    for (int i = 0; i < nthreads; i++) {
        void *ret = NULL;
        int rc = pthread_join(threads[i], &ret);
        if (rc != 0) {
            fail("pthread_join failed", i);
            continue;
        }
        printf("joined thread %d: local=%ld usr2=%d\n", i, (long)ret, usr2_seen[i]);
        printf("ids: thread %d start tid=%d end tid=%d\n", i, start_tids[i], end_tids[i]);
        if (usr2_seen[i] != rounds)
            fail("SIGUSR2 count wrong", i);
        total += (long)ret;
    }
    printf("total of thread-local counters=%ld shared=%ld\n", total, shared_total);
    printf("main usr1=%d usr2=%d\n", (int)usr1_count, (int)usr2_count);
    if (usr1_count != rounds || usr2_count != 0)
        fail("main thread's signal counts", -1);
    pid_t end_pid = getpid(), end_tid = my_tid();
    printf("ids: end pid=%d tid=%d gettid()==getpid(): %s\n", end_pid, end_tid,
           end_tid == end_pid ? "yes" : "no");
    if (end_tid != end_pid)
        fail("main thread's gettid() != getpid()", -1);
    printf("threads_sync: %s\n", errors ? "FAILED" : "ok");
    return errors ? 1 : 42;
}
