/* Minimal subject for the fixed-cost benchmark: tiny memory footprint.
 * usage: tiny [seconds=30] [interval_ms=5]
 * Prints "ready", then wakes every interval until `seconds` have passed and
 * prints "done". When it finds ./resume.probe (created by the benchmark just
 * before cr_restart) it removes it and prints
 * "resumed at <CLOCK_REALTIME ns>", so the benchmark can tell when a restored
 * process is running again. */
#include "prog_util.h"

int main(int argc, char **argv)
{
    note_start("tiny");
    long seconds = arg_long(argc, argv, 1, 30);
    long interval_ms = arg_long(argc, argv, 2, 5);

    printf("ready\n");
    fflush(stdout);
    int64_t end = now_ns(CLOCK_REALTIME) + seconds * 1000000000LL;
    for (;;) {
        struct timespec ts = {0, interval_ms * 1000000L};
        nanosleep(&ts, NULL); /* an early EINTR return is fine here */
        if (consume_resume_probe()) {
            printf("resumed at %lld\n", (long long)now_ns(CLOCK_REALTIME));
            fflush(stdout);
        }
        if (now_ns(CLOCK_REALTIME) >= end)
            break;
    }
    printf("done\n");
    return 0;
}
