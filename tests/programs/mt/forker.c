// forker [WORKERS=4] [ITEMS=40] [DELAY_MS=20]
//
// Process-tree test subject for the checkpoint/restart engine:
//   - a parent that forks WORKERS children, each connected by two pipes: the
//     parent writes work items into one, the worker computes and answers
//     through the other;
//   - every 8th item asks a worker to fork a grandchild, which computes for a
//     while (sleeping) and exits with a status the worker collects with wait()
//     and sends back (children that wait for their own children);
//   - a background child that ticks until the parent tells it to stop (through
//     a pipe), then reports its pid at start and at end and exits with 9.
// Only the parent prints, so the output is deterministic for a given argument
// set. Lines that contain pids start with "ids: ". Exits 43 when every check
// passed, 1 otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16

struct request {
    int kind; // 1 compute, 2 fork a grandchild
    int item;
};

struct answer {
    int item;
    long result;
    int pid_at_start; // the worker's getpid() when it started
    int pid_now;      // and now
};

static int delay_ms = 20;
static int errors = 0;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); // may end early on the checkpoint signal: harmless
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static pid_t wait_for(pid_t pid, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, 0);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

static long collatz_steps(long n)
{
    long steps = 0;
    while (n > 1) {
        n = (n % 2) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static long compute(int item)
{
    long sum = 0;
    for (long k = 1; k <= 2000; k++)
        sum += collatz_steps(item * 1000L + k);
    return sum;
}

static void worker_main(int index, int in_fd, int out_fd)
{
    int pid_at_start = getpid();
    struct request req;
    while (read_full(in_fd, &req, sizeof req) == 0) {
        struct answer ans = {req.item, 0, pid_at_start, 0};
        if (req.kind == 1) {
            ans.result = compute(req.item);
        } else {
            pid_t child = fork();
            if (child == 0) {
                // The grandchild: work slowly, exit with a derived status.
                long acc = 0;
                for (int step = 0; step < 5; step++) {
                    acc += compute(req.item + step) % 97;
                    sleep_ms(delay_ms);
                }
                _exit((int)(acc % 100));
            }
            int status = 0;
            if (child < 0 || wait_for(child, &status) != child)
                ans.result = -1;
            else
                ans.result = WIFEXITED(status) ? WEXITSTATUS(status) : -1000 - WTERMSIG(status);
        }
        ans.pid_now = getpid();
        if (write_full(out_fd, &ans, sizeof ans) != 0)
            _exit(90);
    }
    _exit(20 + index);
}

int main(int argc, char **argv)
{
    int workers = argc > 1 ? atoi(argv[1]) : 4;
    int items = argc > 2 ? atoi(argv[2]) : 40;
    if (argc > 3)
        delay_ms = atoi(argv[3]);
    if (workers < 1 || workers > MAX_WORKERS || items < 1 || delay_ms < 0) {
        fprintf(stderr, "usage: forker [WORKERS(1-%d)] [ITEMS] [DELAY_MS]\n", MAX_WORKERS);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    pid_t me = getpid();
    printf("forker: %d workers, %d items\n", workers, items);
    printf("ids: parent pid=%d ppid=%d pgid=%d sid=%d\n", me, getppid(), getpgid(0), getsid(0));

    // The background child: ticks until its stop pipe reaches EOF.
    int stop_pipe[2], bg_report[2];
    if (pipe(stop_pipe) != 0 || pipe(bg_report) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t bg = fork();
    if (bg == 0) {
        close(stop_pipe[1]);
        close(bg_report[0]);
        int start = getpid();
        char c;
        // read() blocks until the parent closes its end.
        while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR)
            ;
        int pids[2] = {start, getpid()};
        write_full(bg_report[1], pids, sizeof pids);
        _exit(9);
    }
    close(stop_pipe[0]);
    close(bg_report[1]);
    printf("ids: background child pid=%d\n", bg);

    int to_worker[MAX_WORKERS], from_worker[MAX_WORKERS];
    pid_t worker_pid[MAX_WORKERS];
    for (int w = 0; w < workers; w++) {
        int req[2], ans[2];
        if (pipe(req) != 0 || pipe(ans) != 0) {
            perror("pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(req[1]);
            close(ans[0]);
            close(stop_pipe[1]);
            close(bg_report[0]);
            for (int other = 0; other < w; other++) {
                close(to_worker[other]);
                close(from_worker[other]);
            }
            worker_main(w, req[0], ans[1]);
        }
        close(req[0]);
        close(ans[1]);
        to_worker[w] = req[1];
        from_worker[w] = ans[0];
        worker_pid[w] = pid;
        printf("ids: worker %d pid=%d\n", w, pid);
    }

    long checksum = 0;
    for (int i = 0; i < items; i++) {
        int w = i % workers;
        struct request req = {(i % 8 == 7) ? 2 : 1, i};
        struct answer ans;
        if (write_full(to_worker[w], &req, sizeof req) != 0 ||
            read_full(from_worker[w], &ans, sizeof ans) != 0) {
            printf("ERROR worker %d does not answer\n", w);
            errors++;
            break;
        }
        if (ans.item != i) {
            printf("ERROR worker %d answered item %d for %d\n", w, ans.item, i);
            errors++;
        }
        checksum = (checksum * 31 + ans.result) % 1000000007L;
        if (req.kind == 1)
            printf("item %d -> worker %d: %ld\n", i, w, ans.result);
        else
            printf("item %d -> worker %d: grandchild exited with %ld\n", i, w, ans.result);
        if (ans.pid_now != worker_pid[w] || ans.pid_at_start != worker_pid[w])
            printf("ids: worker %d pid changed: forked as %d, started as %d, now %d\n", w,
                   worker_pid[w], ans.pid_at_start, ans.pid_now);
        sleep_ms(delay_ms);
    }

    for (int w = 0; w < workers; w++)
        close(to_worker[w]);
    for (int w = 0; w < workers; w++) {
        int status = 0;
        pid_t r = wait_for(worker_pid[w], &status);
        if (r != worker_pid[w]) {
            printf("ERROR waitpid(worker %d): %s\n", w, strerror(errno));
            errors++;
            continue;
        }
        printf("worker %d exited with %d\n", w, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 20 + w)
            errors++;
    }

    close(stop_pipe[1]);
    int bg_pids[2] = {0, 0};
    if (read_full(bg_report[0], bg_pids, sizeof bg_pids) != 0) {
        printf("ERROR no report from the background child\n");
        errors++;
    }
    int status = 0;
    if (wait_for(bg, &status) != bg) {
        printf("ERROR waitpid(background child): %s\n", strerror(errno));
        errors++;
    } else {
        printf("background child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 9)
            errors++;
    }
    printf("ids: background child pid=%d at start=%d at end=%d\n", bg, bg_pids[0], bg_pids[1]);
    if (wait(NULL) != -1 || errno != ECHILD) {
        printf("ERROR unexpected child left\n");
        errors++;
    }
    printf("checksum=%ld\n", checksum);
    printf("ids: parent pid at start=%d at end=%d ppid=%d pgid=%d sid=%d\n", me, getpid(),
           getppid(), getpgid(0), getsid(0));
    printf("forker: %s\n", errors ? "FAILED" : "ok");
    return errors ? 1 : 43;
}
