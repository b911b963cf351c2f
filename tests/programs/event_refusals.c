/* Holds an event object the engine must refuse, then prints progress.
 * usage: event_refusals MODE
 *   epoll-closed   an epoll registration whose fd was closed (the file stays
 *                  open through a dup, so the kernel keeps the registration)
 *   pidfd-outside  a pidfd of the parent (cr_run's init: outside the tree)
 *   inotify-raw    an inotify watch added by a raw syscall (its path unknown) */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    note_start("event_refusals");
    if (argc < 2) {
        fprintf(stderr, "usage: event_refusals epoll-closed|pidfd-outside|inotify-raw\n");
        return 2;
    }
    if (strcmp(argv[1], "epoll-closed") == 0) {
        int ep = move_fd(epoll_create1(0), 40);
        int ev = move_fd(eventfd(0, 0), 41);
        struct epoll_event e = {EPOLLIN, {.u64 = 7}};
        epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e);
        int keep = dup(ev);
        close(ev);
        printf("epoll %d watches closed fd %d (file kept open by fd %d)\n", ep, ev, keep);
    } else if (strcmp(argv[1], "pidfd-outside") == 0) {
        int fd = move_fd((int)syscall(SYS_pidfd_open, getppid(), 0), 40);
        printf("pidfd %d of parent %d\n", fd, (int)getppid());
    } else if (strcmp(argv[1], "inotify-raw") == 0) {
        int in = move_fd(inotify_init1(0), 40);
        long wd = syscall(SYS_inotify_add_watch, in, "/", IN_CREATE);
        printf("inotify %d watches / as wd %ld, added behind the agent's back\n", in, wd);
    } else {
        fprintf(stderr, "event_refusals: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    for (long i = 0; i < 100000; ++i) {
        printf("tick %ld\n", i);
        fflush(stdout);
        sleep_ms(20);
    }
    return 0;
}
