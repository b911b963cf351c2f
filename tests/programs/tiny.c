/* Minimal subject for the fixed-cost benchmark: tiny memory footprint.
 * usage: tiny [seconds=30] [interval_ms=5]
 * Prints "ready" once, then wakes every interval. When a wake-up comes much
 * later than expected (the process was frozen for a checkpoint, or killed and
 * restarted), it prints "resumed at <CLOCK_REALTIME ns>" so the benchmark can
 * tell when a restored process is running again. */
#include "prog_util.h"

int main(int argc, char **argv)
{
    long seconds = arg_long(argc, argv, 1, 30);
    long interval_ms = arg_long(argc, argv, 2, 5);
    const int64_t gap_ns = (interval_ms + 20) * 1000000LL;

    printf("ready\n");
    fflush(stdout);
    int64_t end = now_ns(CLOCK_REALTIME) + seconds * 1000000000LL;
    int64_t last = now_ns(CLOCK_REALTIME);
    for (;;) {
        struct timespec ts = {0, interval_ms * 1000000L};
        nanosleep(&ts, NULL); /* an early EINTR return is fine here */
        int64_t now = now_ns(CLOCK_REALTIME);
        if (now - last > gap_ns) {
            printf("resumed at %lld\n", (long long)now);
            fflush(stdout);
        }
        last = now;
        if (now >= end)
            break;
    }
    printf("done\n");
    return 0;
}
