/* The seed program (BLCR's examples/counting): prints "Count = i" for
 * i in 0..N-1 with a pause between lines.
 * usage: counting [N=100] [interval_ms=1000] [status=0]
 * status >= 0 is the exit status; status < 0 means "die by signal -status"
 * (used to test that cr_run/cr_restart mirror exit statuses and signals). */
#include <signal.h>

#include "prog_util.h"

int main(int argc, char **argv)
{
    note_start("counting");
    long count = arg_long(argc, argv, 1, 100);
    long interval_ms = arg_long(argc, argv, 2, 1000);
    long status = arg_long(argc, argv, 3, 0);

    for (long i = 0; i < count; i++) {
        printf("Count = %ld\n", i);
        fflush(stdout);
        if (i + 1 < count)
            sleep_ms(interval_ms);
    }
    if (status < 0) {
        signal((int)-status, SIG_DFL);
        raise((int)-status);
        return 125; /* the signal was not fatal */
    }
    return (int)status;
}
