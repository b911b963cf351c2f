/* The restore plan: what cr_restart hands the restorer (in a memfd) for one
 * process. cr_restart has already parsed and validated the image and opened
 * every file the restorer needs, so the restorer only maps, reads and jumps.
 * Plain C: the restorer is built freestanding. */
#ifndef REPRISE_CR_RESTORE_PLAN_H
#define REPRISE_CR_RESTORE_PLAN_H

#include <stdint.h>

#define REPRISE_PLAN_MAGIC 0x4e414c5053525052ull /* "RPRSPLAN" */
#define REPRISE_INFO_MAGIC 0x4f464e4953525052ull /* "RPRSINFO" */

struct plan_context { /* same layout as reprise::cr::ParkContext */
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* plan_vma.flags bit beside the VmaFlags: map the shared memory object at fd
 * (a memfd cr_restart filled from the image); the runs are only checksummed. */
#define PLAN_VMA_OBJECT 0x10000u

struct plan_vma {
  uint64_t start, end;
  uint64_t file_offset;
  uint32_t flags;   /* VmaFlags of image_format.h, and PLAN_VMA_OBJECT */
  int32_t fd;       /* open file for file mappings, -1 for anonymous */
  uint32_t first_run, run_count;
};

struct plan_run {
  uint64_t start, pages, data_offset;
};

struct plan_thread {
  int32_t tid;
  uint32_t is_main;
  struct plan_context park;
  uint64_t fs_base;
  uint64_t clear_child_tid;
  uint64_t robust_list_head, robust_list_len;
};

struct plan_fd_flag { int32_t fd; uint32_t cloexec; };

/* A file lock to take through fd before the process reports ready. */
#define PLAN_LOCK_FLOCK 1
#define PLAN_LOCK_POSIX 2
#define PLAN_LOCK_OFD 3
struct plan_lock {
  int32_t fd;
  uint32_t kind;  /* PLAN_LOCK_* (the FileLockKind values) */
  uint32_t write;
  uint32_t reserved;
  int64_t start, len;
};

/* Layout of the plan blob: header, then the arrays at the given offsets. */
struct plan_header {
  uint64_t magic;
  uint64_t size;             /* bytes of the whole blob */
  int32_t image_fd;          /* the image, for page data */
  int32_t status_fd;         /* restorer -> cr_restart: struct plan_status */
  int32_t go_fd;             /* cr_restart -> restorer: one byte when all are ready */
  int32_t exe_fd;            /* for PR_SET_MM_MAP's exe_fd, or -1 */
  uint64_t pages_hash;       /* expected hash of all page data, in run order */
  uint32_t vma_count, run_count, thread_count, fd_flag_count;
  uint64_t vma_off, run_off, thread_off, fd_flag_off;
  uint64_t vvar_start, vvar_size, vclock_start, vclock_size, vdso_start, vdso_size;
  /* prctl(PR_SET_MM, PR_SET_MM_MAP) fields */
  uint64_t start_code, end_code, start_data, end_data;
  uint64_t start_brk, brk, start_stack;
  uint64_t arg_start, arg_end, env_start, env_end;
  uint64_t auxv[64];
  uint32_t auxv_words;
  uint32_t restore_tids;     /* 1: threads get their saved tids (clone3 set_tid) */
  uint32_t lock_count, reserved_lock;
  uint64_t lock_off;
};

/* Status line the restorer sends before it waits for "go". */
struct plan_status {
  int32_t code; /* 0 = ready, else an errno value */
  char message[252];
};

/* Handed to the agent (the return value of its park point) after restore; it
 * lives in the restorer's hole, which the agent unmaps when all threads are in. */
struct restore_info {
  uint64_t magic;
  uint64_t hole_start, hole_len;
  uint32_t thread_count;
  uint32_t threads_arrived;  /* futex words, updated atomically */
  uint32_t go;
  uint32_t departed;
};

#endif
