/* A watchdog loop (issue 11 item 7): each round sleeps `interval_ms` and
 * checks how far CLOCK_MONOTONIC and CLOCK_BOOTTIME moved. Moving more than
 * `max_gap_ms` is what makes a real watchdog fire after a restart; the
 * program prints it ("jumped"), so a restart that lets the clocks show the
 * downtime differs from an uninterrupted run. A timerfd with an absolute
 * CLOCK_MONOTONIC deadline (the rounds' time plus max_gap_ms) must not have
 * expired at the end either.
 * usage: clock_watch [N=40] [interval_ms=100] [max_gap_ms=1500] */
#include <sys/timerfd.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    note_start("clock_watch");
    long rounds = arg_long(argc, argv, 1, 40);
    long interval_ms = arg_long(argc, argv, 2, 100);
    long max_gap_ms = arg_long(argc, argv, 3, 1500);
    int64_t mono = now_ns(CLOCK_MONOTONIC), boot = now_ns(CLOCK_BOOTTIME);
    int deadline = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int64_t at = mono + (rounds * interval_ms + max_gap_ms) * 1000000LL;
    struct itimerspec abs = {{0, 0}, {at / 1000000000LL, at % 1000000000LL}};
    if (deadline < 0 || timerfd_settime(deadline, TFD_TIMER_ABSTIME, &abs, NULL) != 0)
        return 1;
    for (long i = 0; i < rounds; i++) {
        sleep_ms(interval_ms);
        int64_t m = now_ns(CLOCK_MONOTONIC), b = now_ns(CLOCK_BOOTTIME);
        long mono_gap = (long)((m - mono) / 1000000), boot_gap = (long)((b - boot) / 1000000);
        if (mono_gap > max_gap_ms || boot_gap > max_gap_ms || m < mono || b < boot)
            printf("round %ld: clocks jumped (monotonic %+ld ms, boottime %+ld ms)\n", i, mono_gap, boot_gap);
        else
            printf("round %ld: watchdog ok\n", i);
        fflush(stdout);
        mono = m;
        boot = b;
    }
    struct itimerspec left;
    timerfd_gettime(deadline, &left);
    printf("deadline timer: %s\n", left.it_value.tv_sec || left.it_value.tv_nsec ? "not expired" : "EXPIRED");
    return 0;
}
