// Checkpoint/restart engine benchmark. For a process holding N MiB of
// incompressible data (tests/programs/big_memory) and for a minimal process
// (tests/programs/tiny) it measures:
//   - checkpoint time: wall time of `cr_checkpoint --file IMG PID` with the
//     process continuing (median of --reps runs) and with --kill (one run);
//   - image size, and how much it exceeds the process's touched memory
//     (RssAnon + private file pages, from /proc/PID/smaps_rollup);
//   - restart to running: from just before cr_restart is started until the
//     restored program reports (CLOCK_REALTIME, printed when it first wakes,
//     every 5 ms, and finds the ./resume.probe file the benchmark created)
//     that it runs again; and until it has verified every byte of its memory;
//   - the machine's dd write speed for the same size, with and without
//     conv=fsync, as the physical reference.
// Prints a markdown table on stdout and per-run details on stderr.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "cr_test_util.h"

using namespace crtest;

namespace {

struct Config {
    std::string bin_dir;
    std::string programs_dir;
    std::string work_dir = "/var/tmp/reprise-crbench";
    std::vector<long> sizes{64, 256, 1024};
    int reps = 3;
};

struct Row {
    std::string workload;
    double touched_mib = NAN;
    double checkpoint_s = NAN;      // process continues (median)
    double checkpoint_min_s = NAN;  // and the fastest of those runs
    double running_min_s = NAN;
    double checkpoint_kill_s = NAN; // --kill (one sample)
    double image_mib = NAN;
    double running_s = NAN;
    double verified_s = NAN;
    double dd_fsync_s = NAN;
    double dd_nofsync_s = NAN;
    std::string error;
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int64_t realtime_ns()
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return NAN;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Private (anonymous or copy-on-write) memory the process has touched, MiB.
double touched_mib(pid_t pid)
{
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/smaps_rollup"));
    long total_kb = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string key;
        long kb = 0;
        if (fields >> key >> kb && (key == "Private_Dirty:" || key == "Swap:"))
            total_kb += kb;
    }
    return static_cast<double>(total_kb) / 1024.0;
}

// Earliest "<tag> <ns>" line in `path` with ns > after; 0 if none yet.
int64_t find_stamp(const std::string &path, const std::string &tag, int64_t after)
{
    std::istringstream in(read_file(path));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(tag, 0) == 0) {
            long long ns = std::atoll(line.c_str() + tag.size());
            if (ns > after)
                return ns;
        }
    return 0;
}

int64_t wait_stamp(const std::string &path, const std::string &tag, int64_t after, Millis timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (int64_t ns = find_stamp(path, tag, after))
            return ns;
        std::this_thread::sleep_for(1ms);
    }
    return 0;
}

double time_dd(const Config &cfg, long mib, bool fsync)
{
    std::string file = cfg.work_dir + "/dd.out";
    std::vector<std::string> argv{"/bin/dd", "if=/dev/zero", "of=" + file, "bs=1M",
                                  "count=" + std::to_string(mib)};
    if (fsync)
        argv.push_back("conv=fsync");
    auto start = std::chrono::steady_clock::now();
    RunResult r = run(argv, cfg.work_dir, 300s);
    double s = seconds_since(start);
    unlink(file.c_str());
    return exit_code(r.status) == 0 ? s : NAN;
}

Row measure(const Config &cfg, const std::string &workload, const std::vector<std::string> &argv,
            bool verifies, long dd_mib)
{
    Row row;
    row.workload = workload;
    std::string stem = workload;
    stem.erase(std::remove(stem.begin(), stem.end(), ' '), stem.end());
    std::string out = cfg.work_dir + "/" + stem + ".out";
    std::string image = cfg.work_dir + "/" + stem + ".rpr";
    unlink(image.c_str());
    unlink(out.c_str()); // a stale "ready" from an earlier run must not be seen

    std::vector<std::string> cr_run_argv{cfg.bin_dir + "/cr_run"};
    cr_run_argv.insert(cr_run_argv.end(), argv.begin(), argv.end());
    Process app = Process::spawn(cr_run_argv, {cfg.work_dir, out, out + ".err", {}, {}});
    for (auto deadline = std::chrono::steady_clock::now() + 300s;
         read_file(out).find("ready") == std::string::npos;) {
        if (app.wait(5ms) || std::chrono::steady_clock::now() > deadline) {
            row.error = "program did not get ready: " + read_file(out + ".err");
            return row;
        }
    }
    std::this_thread::sleep_for(200ms);
    pid_t real = deepest_descendant(app.pid());
    row.touched_mib = touched_mib(real > 0 ? real : app.pid());

    // Checkpoints with the process continuing, then one with --kill.
    std::vector<double> checkpoints;
    for (int rep = 0; rep <= cfg.reps; rep++) {
        bool kill = rep == cfg.reps;
        std::vector<std::string> ck{cfg.bin_dir + "/cr_checkpoint"};
        if (kill)
            ck.push_back("--kill");
        ck.insert(ck.end(), {"--file", image, std::to_string(app.pid())});
        auto start = std::chrono::steady_clock::now();
        RunResult r = run(ck, cfg.work_dir, 600s);
        double s = seconds_since(start);
        if (exit_code(r.status) != 0) {
            row.error = "cr_checkpoint " + describe_status(r.status) + ": " + r.err;
            return row;
        }
        std::cerr << workload << ": checkpoint" << (kill ? " --kill " : " ") << s << " s\n";
        if (kill)
            row.checkpoint_kill_s = s;
        else
            checkpoints.push_back(s);
        std::this_thread::sleep_for(200ms);
    }
    row.checkpoint_s = median(checkpoints);
    row.checkpoint_min_s = *std::min_element(checkpoints.begin(), checkpoints.end());
    app.wait(30s);
    struct stat st;
    if (stat(image.c_str(), &st) == 0)
        row.image_mib = static_cast<double>(st.st_size) / (1024.0 * 1024.0);

    std::vector<double> running, verified;
    for (int rep = 0; rep < cfg.reps; rep++) {
        // The restored program reports the first time it wakes and sees the probe.
        std::string probe = cfg.work_dir + "/resume.probe";
        write_file(probe, "");
        int64_t start = realtime_ns();
        Process restarted = Process::spawn({cfg.bin_dir + "/cr_restart", image},
                                           {cfg.work_dir, "", out + ".restart.err", {}, {}});
        int64_t resumed = wait_stamp(out, "resumed at ", start, 300s);
        if (!resumed) {
            row.error = "restored program never reported running; cr_restart stderr: " +
                        read_file(out + ".restart.err");
            return row;
        }
        running.push_back(static_cast<double>(resumed - start) / 1e9);
        if (verifies) {
            int64_t done = wait_stamp(out, "verified at ", resumed - 1, 300s);
            std::string text = read_file(out);
            if (!done || text.find("MISMATCH") != std::string::npos) {
                row.error = "restored memory failed verification";
                return row;
            }
            verified.push_back(static_cast<double>(done - start) / 1e9);
        }
        std::cerr << workload << ": restart " << rep + 1 << " running after " << running.back()
                  << " s" << (verifies ? ", verified after " + std::to_string(verified.back()) + " s" : "")
                  << "\n";
        restarted.kill_tree();
        unlink(probe.c_str());
    }
    row.running_s = median(running);
    row.running_min_s = *std::min_element(running.begin(), running.end());
    row.verified_s = median(verified);
    std::vector<double> dd_fsync, dd_nofsync;
    for (int rep = 0; rep < cfg.reps; rep++) {
        dd_fsync.push_back(time_dd(cfg, dd_mib, true));
        dd_nofsync.push_back(time_dd(cfg, dd_mib, false));
    }
    row.dd_fsync_s = median(dd_fsync);
    row.dd_nofsync_s = median(dd_nofsync);
    unlink(image.c_str());
    return row;
}

std::string fmt(double v, int precision)
{
    if (std::isnan(v))
        return "n/a";
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", precision, v);
    return buf;
}

void print_machine(const Config &cfg)
{
    utsname u;
    uname(&u);
    std::string cpu = "unknown";
    std::istringstream info(read_file("/proc/cpuinfo"));
    for (std::string line; std::getline(info, line);)
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    std::string mem;
    std::istringstream meminfo(read_file("/proc/meminfo"));
    std::getline(meminfo, mem);
    std::cout << "Machine: " << u.sysname << " " << u.release << " " << u.machine << ", " << cpu
              << ", " << std::thread::hardware_concurrency() << " CPUs, "
              << mem.substr(mem.find_first_not_of(" ", 9)) << " RAM; images and dd files in "
              << cfg.work_dir << "\n\n";
}

Config parse(int argc, char **argv)
{
    Config cfg;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--bin")
            cfg.bin_dir = value;
        else if (key == "--programs")
            cfg.programs_dir = value;
        else if (key == "--work")
            cfg.work_dir = value;
        else if (key == "--reps")
            cfg.reps = std::max(1, std::atoi(value.c_str()));
        else if (key == "--sizes") {
            cfg.sizes.clear();
            std::istringstream in(value);
            for (std::string s; std::getline(in, s, ',');)
                if (!s.empty())
                    cfg.sizes.push_back(std::atol(s.c_str()));
        } else {
            std::cerr << "unknown option " << key << "\n";
            exit(2);
        }
    }
    if (cfg.bin_dir.empty() || cfg.programs_dir.empty()) {
        std::cerr << "usage: cr_bench --bin DIR --programs DIR [--work DIR] [--sizes 64,256,1024] "
                     "[--reps 3]\n";
        exit(2);
    }
    // Children chdir to the work directory before exec: paths must be absolute.
    for (std::string *dir : {&cfg.bin_dir, &cfg.programs_dir, &cfg.work_dir})
        *dir = std::filesystem::absolute(*dir).lexically_normal().string();
    return cfg;
}

} // namespace

int main(int argc, char **argv)
{
    Config cfg = parse(argc, argv);
    mkdir(cfg.work_dir.c_str(), 0755);

    std::vector<Row> rows;
    // tiny: the fixed cost of the engine. dd reference: 1 MiB.
    rows.push_back(measure(cfg, "tiny", {cfg.programs_dir + "/tiny", "100000", "5"}, false, 1));
    for (long mib : cfg.sizes)
        rows.push_back(measure(cfg, std::to_string(mib) + " MiB",
                               {cfg.programs_dir + "/big_memory", std::to_string(mib), "0", "5"},
                               true, mib));

    print_machine(cfg);
    std::cout << "| workload | touched MiB | checkpoint s (best) | checkpoint --kill s | image MiB "
                 "| image - touched MiB | restart to running s (best) | restart to verified s "
                 "| dd conv=fsync s | dd no fsync s |\n"
              << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    bool failed = false;
    for (const Row &r : rows) {
        std::cout << "| " << r.workload << " | " << fmt(r.touched_mib, 1) << " | "
                  << fmt(r.checkpoint_s, 3) << " (" << fmt(r.checkpoint_min_s, 3) << ") | "
                  << fmt(r.checkpoint_kill_s, 3) << " | "
                  << fmt(r.image_mib, 1) << " | "
                  << fmt(r.image_mib - r.touched_mib, 2) << " | " << fmt(r.running_s, 3) << " ("
                  << fmt(r.running_min_s, 3) << ") | "
                  << fmt(r.verified_s, 3) << " | " << fmt(r.dd_fsync_s, 3) << " | "
                  << fmt(r.dd_nofsync_s, 3) << " |";
        if (!r.error.empty()) {
            std::cout << " FAILED: " << r.error.substr(0, r.error.find('\n'));
            failed = true;
        }
        std::cout << "\n";
    }
    std::cout << "\n\"checkpoint s\", the restart and the dd columns are medians of " << cfg.reps
              << " runs, the fastest run in parentheses (the process continues after those "
                 "checkpoints; the restarts reuse the --kill image); \"checkpoint --kill s\" is "
                 "one run.\n";
    return failed ? 1 : 0;
}
