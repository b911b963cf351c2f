/* Files changed in place, the way jobs change them:
 * - pwrite: a file opened O_RDWR whose records are rewritten at offsets;
 * - mmap:   a file mapped MAP_SHARED writable (its fd closed), changed through
 *           the mapping;
 * - sqlite: an SQLite database (rollback journal) getting numbered rows in
 *           transactions.
 * Each round the program reads back what it wrote in the round before and
 * prints a MISMATCH line (exit 1) when the file is not in that state, so a
 * restart that leaves the file as the job changed it after the checkpoint
 * changes the output. At the end it prints a summary of the file or table.
 * usage: rewritten_files pwrite|mmap|sqlite [rounds=40] [interval_ms=30] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/mman.h>

#include "prog_util.h"

#define SLOTS 16

static void mismatch(const char *what, long round, long saw, long want)
{
    printf("MISMATCH: round %ld: %s: saw %ld, expected %ld\n", round, what, saw, want);
    fflush(stdout);
    exit(1);
}

static void fail(const char *what)
{
    printf("FAILED: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

/* slot 0 holds the round; slot 1 + r % (SLOTS-1) the round that wrote it last. */
static void run_file(int mapped, long rounds, long interval_ms)
{
    int fd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail("open data.bin");
    if (ftruncate(fd, SLOTS * 8) != 0)
        fail("ftruncate");
    int64_t *map = NULL;
    if (mapped) {
        map = mmap(NULL, SLOTS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            fail("mmap");
        close(fd);
    }
    int64_t shadow[SLOTS] = {0};
    for (long r = 0; r < rounds; ++r) {
        int64_t file[SLOTS];
        if (mapped)
            memcpy(file, map, sizeof file);
        else if (pread(fd, file, sizeof file, 0) != (ssize_t)sizeof file)
            fail("pread");
        for (int s = 0; s < SLOTS; ++s)
            if (file[s] != shadow[s])
                mismatch(s == 0 ? "round in slot 0" : "record", r, (long)file[s], (long)shadow[s]);
        shadow[0] = r + 1;
        shadow[1 + r % (SLOTS - 1)] = r * 7 + 1;
        if (mapped) {
            map[0] = shadow[0];
            map[1 + r % (SLOTS - 1)] = shadow[1 + r % (SLOTS - 1)];
        } else if (pwrite(fd, &shadow[0], 8, 0) != 8 ||
                   pwrite(fd, &shadow[1 + r % (SLOTS - 1)], 8, (1 + r % (SLOTS - 1)) * 8) != 8) {
            fail("pwrite");
        }
        printf("round %ld ok\n", r);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    int64_t sum = 0;
    for (int s = 0; s < SLOTS; ++s)
        sum += shadow[s];
    printf("done: %ld rounds, sum of records %ld\n", rounds, (long)sum);
}

static long query_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        printf("FAILED: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    long v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        printf("FAILED: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

static void run_sqlite(long rounds, long interval_ms)
{
    unlink("rows.db");
    unlink("rows.db-journal");
    sqlite3 *db;
    if (sqlite3_open("rows.db", &db) != SQLITE_OK)
        fail("sqlite3_open");
    exec_sql(db, "PRAGMA journal_mode=DELETE; CREATE TABLE t(n INTEGER)");
    for (long r = 0; r < rounds; ++r) {
        long have = query_long(db, "SELECT count(*) FROM t");
        if (have != 3 * r)
            mismatch("rows in the table", r, have, 3 * r);
        char sql[160];
        snprintf(sql, sizeof sql, "BEGIN; INSERT INTO t VALUES(%ld); INSERT INTO t VALUES(%ld); "
                 "INSERT INTO t VALUES(%ld); COMMIT", 3 * r, 3 * r + 1, 3 * r + 2);
        exec_sql(db, sql);
        printf("round %ld ok\n", r);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
    printf("done: %ld rows, %ld distinct, min %ld, max %ld, sum %ld\n", query_long(db, "SELECT count(*) FROM t"),
           query_long(db, "SELECT count(DISTINCT n) FROM t"), query_long(db, "SELECT min(n) FROM t"),
           query_long(db, "SELECT max(n) FROM t"), query_long(db, "SELECT sum(n) FROM t"));
    sqlite3_close(db);
}

int main(int argc, char **argv)
{
    note_start("rewritten_files");
    const char *mode = argc > 1 ? argv[1] : "pwrite";
    long rounds = arg_long(argc, argv, 2, 40);
    long interval_ms = arg_long(argc, argv, 3, 30);
    if (strcmp(mode, "pwrite") == 0)
        run_file(0, rounds, interval_ms);
    else if (strcmp(mode, "mmap") == 0)
        run_file(1, rounds, interval_ms);
    else if (strcmp(mode, "sqlite") == 0)
        run_sqlite(rounds, interval_ms);
    else {
        fprintf(stderr, "rewritten_files: mode must be pwrite, mmap or sqlite, not '%s'\n", mode);
        return 2;
    }
    return 0;
}
