/* Keeps an exited, unreaped child (a zombie) almost all the time, so a
 * checkpoint nearly always finds one (issue 11 item 9).
 * usage: zombie_children [N=40] [interval_ms=100]
 * Round i forks a child that exits at once: with status i, killed by SIGTERM,
 * or, every fourth, in a process group of its own. The parent sleeps with
 * SIGCHLD blocked (the child is a zombie meanwhile and SIGCHLD pending), then
 * waits as libuv does: a SIGCHLD handler writes to a self-pipe, the parent
 * polls the pipe, and only then reaps (by pid, or by process group). A
 * restart that loses the zombie, its status, its group or the SIGCHLD shows
 * in the output ("WRONG", "NO SIGCHLD"). A first child writes a line into a
 * pipe and exits at once; the parent reads the pipe (its bytes, then EOF:
 * no writer is left) and reaps that child only at the end. */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "prog_util.h"

static int self_pipe[2];

static void on_sigchld(int sig)
{
    (void)sig;
    int saved = errno;
    char b = 'c';
    ssize_t ignored = write(self_pipe[1], &b, 1);
    (void)ignored;
    errno = saved;
}

static void drain(void)
{
    char buf[64];
    while (read(self_pipe[0], buf, sizeof buf) > 0) {
    }
}

int main(int argc, char **argv)
{
    note_start("zombie_children");
    long rounds = arg_long(argc, argv, 1, 40);
    long interval_ms = arg_long(argc, argv, 2, 100);
    if (pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int left[2];
    if (pipe(left) != 0)
        return 1;
    pid_t writer = fork();
    if (writer == 0) {
        const char line[] = "written by a child that exited long ago\n";
        ssize_t ignored = write(left[1], line, sizeof line - 1);
        (void)ignored;
        _exit(42);
    }
    close(left[1]);

    for (long i = 0; i < rounds; i++) {
        sigprocmask(SIG_BLOCK, &chld, NULL);
        drain();
        int kind = (int)(i % 4);
        pid_t child = fork();
        if (child < 0)
            return 1;
        if (child == 0) {
            if (kind == 3)
                setpgid(0, 0);
            if (kind == 1) {
                signal(SIGTERM, SIG_DFL);
                raise(SIGTERM);
            }
            _exit((int)(i % 200));
        }
        if (kind == 3)
            setpgid(child, child); /* both sides, as shells do: no race */
        sleep_ms(interval_ms);     /* a zombie with SIGCHLD pending */
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        struct pollfd p = {self_pipe[0], POLLIN, 0};
        int ready;
        do
            ready = poll(&p, 1, 20000);
        while (ready < 0 && errno == EINTR);
        int status = 0;
        pid_t got = waitpid(kind == 3 ? -child : child, &status, 0);
        if (got != child)
            printf("round %ld: WRONG pid from waitpid (%d, not the child)\n", i, (int)got);
        else if (ready <= 0)
            printf("round %ld: NO SIGCHLD for the exited child\n", i);
        else if (WIFSIGNALED(status))
            printf("round %ld: child killed by signal %d\n", i, WTERMSIG(status));
        else
            printf("round %ld: child exited with status %d\n", i, WEXITSTATUS(status));
        fflush(stdout);
    }
    char buf[128];
    size_t got = 0;
    for (ssize_t n; got < sizeof buf - 1 && (n = read(left[0], buf + got, sizeof buf - 1 - got)) != 0;)
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            break;
    buf[got] = '\0';
    int status = 0;
    pid_t got_writer = waitpid(writer, &status, 0);
    printf("pipe of the exited child: %s", got ? buf : "NOTHING\n");
    printf("that child: %s, status %d\n", got_writer == writer ? "reaped" : "WRONG", WEXITSTATUS(status));
    return 0;
}
