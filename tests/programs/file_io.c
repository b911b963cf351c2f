/* Open-file state survival test.
 * usage: file_io DIR [records=40] [interval_ms=40]
 *
 * Creates DIR/file_io.in with known content, then each iteration:
 *  - read()s the next chunk of the input sequentially (offset kept by the
 *    kernel, so a restart must restore it) and prints it with the offset,
 *    plus a pread() at a computed offset every few iterations;
 *  - write()s a fixed-width record to DIR/file_io.out sequentially and
 *    pwrite()s an updated header at offset 0;
 *  - appends a line to DIR/file_io.log opened O_APPEND.
 * At the end it reads both files back and checks their exact contents. */
#include <fcntl.h>
#include <unistd.h>

#include "prog_util.h"

enum { RECORD = 32, HEADER = 32 };

static char path_in[4096], path_out[4096], path_log[4096];

static void die(const char *what)
{
    perror(what);
    exit(3);
}

static void make_input(void)
{
    int fd = open(path_in, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die(path_in);
    for (int i = 0; i < 400; i++) {
        char line[96];
        int n = snprintf(line, sizeof line, "input line %03d:%.*s\n", i, 1 + (i * 7) % 40,
                         "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH");
        if (write(fd, line, (size_t)n) != n)
            die("write input");
    }
    close(fd);
}

static void format_record(char *rec, long i)
{
    char tmp[RECORD + 1];
    snprintf(tmp, sizeof tmp, "record %05ld value %08lx", i, (unsigned long)(i * 2654435761u));
    memset(rec, '.', RECORD);
    memcpy(rec, tmp, strlen(tmp));
    rec[RECORD - 1] = '\n';
}

static void format_header(char *hdr, long count)
{
    char tmp[HEADER + 1];
    snprintf(tmp, sizeof tmp, "header: %05ld records", count);
    memset(hdr, ' ', HEADER);
    memcpy(hdr, tmp, strlen(tmp));
    hdr[HEADER - 1] = '\n';
}

static int log_line(char *buf, size_t size, long i, long got)
{
    return snprintf(buf, size, "log %ld: read %ld bytes\n", i, got);
}

static size_t slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    ssize_t n = read(fd, buf, size);
    close(fd);
    return n < 0 ? 0 : (size_t)n;
}

int main(int argc, char **argv)
{
    note_start("file_io");
    if (argc < 2) {
        fprintf(stderr, "usage: file_io DIR [records] [interval_ms]\n");
        return 2;
    }
    long records = arg_long(argc, argv, 2, 40);
    long interval_ms = arg_long(argc, argv, 3, 40);
    snprintf(path_in, sizeof path_in, "%s/file_io.in", argv[1]);
    snprintf(path_out, sizeof path_out, "%s/file_io.out", argv[1]);
    snprintf(path_log, sizeof path_log, "%s/file_io.log", argv[1]);

    make_input();
    int in = open(path_in, O_RDONLY);
    int out = open(path_out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int log = open(path_log, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || log < 0)
        die("open");
    char hdr[HEADER];
    format_header(hdr, 0);
    if (write(out, hdr, HEADER) != HEADER)
        die("write header");

    long read_lengths[4096];
    for (long i = 0; i < records && i < 4096; i++) {
        char buf[128];
        off_t before = lseek(in, 0, SEEK_CUR);
        ssize_t got = read(in, buf, (size_t)(23 + i % 17));
        if (got < 0)
            die("read");
        read_lengths[i] = got;
        for (ssize_t k = 0; k < got; k++)
            if (buf[k] == '\n')
                buf[k] = '|';
        printf("iter %ld: offset %ld read %ld [%.*s]", i, (long)before, (long)got, (int)got, buf);
        if (i % 4 == 3) {
            char at[17] = {0};
            off_t where = (off_t)((i * 131) % 9000);
            ssize_t n = pread(in, at, 16, where);
            for (ssize_t k = 0; k < n; k++)
                if (at[k] == '\n')
                    at[k] = '|';
            printf(" pread@%ld [%.*s]", (long)where, (int)(n < 0 ? 0 : n), at);
        }
        printf("\n");
        fflush(stdout);

        char rec[RECORD];
        format_record(rec, i);
        if (write(out, rec, RECORD) != RECORD)
            die("write record");
        format_header(hdr, i + 1);
        if (pwrite(out, hdr, HEADER, 0) != HEADER)
            die("pwrite header");
        char line[64];
        int n = log_line(line, sizeof line, i, (long)got);
        if (write(log, line, (size_t)n) != n)
            die("write log");
        sleep_ms(interval_ms);
    }
    close(in);
    close(out);
    close(log);

    /* verify the two files byte for byte */
    static char expect[1 << 20], actual[1 << 20];
    size_t len = 0;
    format_header(expect, records);
    len = HEADER;
    for (long i = 0; i < records; i++, len += RECORD)
        format_record(expect + len, i);
    size_t got = slurp(path_out, actual, sizeof actual);
    int out_ok = got == len && memcmp(expect, actual, len) == 0;
    printf("output file %s: %zu bytes checksum %016llx\n", out_ok ? "ok" : "MISMATCH", got,
           (unsigned long long)checksum_bytes(CHECKSUM_INIT, actual, got));

    len = 0;
    for (long i = 0; i < records; i++)
        len += (size_t)log_line(expect + len, sizeof expect - len, i, read_lengths[i]);
    got = slurp(path_log, actual, sizeof actual);
    int log_ok = got == len && memcmp(expect, actual, len) == 0;
    printf("log file %s: %zu bytes checksum %016llx\n", log_ok ? "ok" : "MISMATCH", got,
           (unsigned long long)checksum_bytes(CHECKSUM_INIT, actual, got));
    return out_ok && log_ok ? 0 : 1;
}
