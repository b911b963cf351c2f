/* The restorer: turns a freshly exec'd process into a checkpointed one.
 *
 * cr_restart has already restored fds, cwd, credentials and limits, and
 * passes a restore plan (restore_plan.h) as argv[1] = plan fd. Steps:
 *   1. copy ourselves into a hole that no saved mapping uses, move there;
 *   2. unmap everything else, move [vvar]/[vvar_vclock]/[vdso] to where the
 *      program had them, map every saved VMA and read its pages;
 *   3. set the kernel's view of the memory layout (PR_SET_MM_MAP);
 *   4. report "ready" and wait for cr_restart's "go" (so nothing runs until
 *      every process of the tree is in place and every checksum matched);
 *   5. jump to the thread's park point inside the agent's signal handler.
 * Any failure before step 5 reports an errno and a one-line reason on the
 * status pipe and exits: the program never runs half-restored. */
#include <asm/prctl.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/fcntl.h>
#include <linux/sched.h>

#include "format/hash.h"
#include "freestanding.h"
#include "restore_plan.h"

#pragma GCC visibility push(hidden)

#define PAGE 4096ull
#define STACK_SIZE (256ull << 10)
#define THREAD_STACK (64ull << 10)
#define SCRATCH_SIZE (1ull << 20)
#define TASK_TOP 0x7ffffffff000ull
#define EINVAL_ 22
#define ENOMEM_ 12
#define EIO_ 5

extern const char __ehdr_start[];
void switch_stack_call(uint64_t sp, void (*fn)(uint64_t), uint64_t arg) __attribute__((noreturn));
void jump_to_context(const struct plan_context *ctx, uint64_t value) __attribute__((noreturn));
long clone3_run(void *args, uint64_t size, void (*fn)(uint64_t), uint64_t arg);

struct range { uint64_t start, end; };

/* Where things are inside the hole, filled before the move. */
struct hole_layout {
  uint64_t base, size;
  uint64_t info;     /* struct restore_info */
  uint64_t plan;     /* copy of the plan blob */
  uint64_t scratch;  /* SCRATCH_SIZE bytes for parsing /proc/self/maps */
  uint64_t stack_top;
  uint64_t thread_stacks;  /* THREAD_STACK bytes per thread */
  int32_t plan_fd;
};

static int g_status_fd = -1;

static void fail(int code, const char *what) __attribute__((noreturn));
static void fail(int code, const char *what) {
  struct plan_status st;
  memset(&st, 0, sizeof st);
  st.code = code;
  size_t n = str_len(what);
  if (n > sizeof st.message - 1) n = sizeof st.message - 1;
  memcpy(st.message, what, n);
  if (g_status_fd >= 0) sys3(__NR_write, g_status_fd, &st, sizeof st);
  else sys3(__NR_write, 2, what, n);
  sys1(__NR_exit_group, code ? code : 1);
  __builtin_unreachable();
}

static uint64_t parse_hex(const char **sp) {
  const char *s = *sp;
  uint64_t v = 0;
  for (;; ++s) {
    char c = *s;
    if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
    else break;
  }
  *sp = s;
  return v;
}

/* Reads /proc/self/maps into buf; returns the ranges and, optionally, where
 * the three vDSO pieces are. */
struct current_maps {
  struct range ranges[512];
  int count;
  struct range vvar, vclock, vdso;
};

static int name_is(const char *s, const char *name) {
  size_t n = str_len(name);
  return memcmp(s, name, n) == 0 && (s[n] == '\n' || s[n] == '\0');
}

static void read_current_maps(char *buf, size_t cap, struct current_maps *out) {
  long fd = sys3(__NR_open, "/proc/self/maps", O_RDONLY, 0);
  if (fd < 0) fail((int)-fd, "cannot read /proc/self/maps");
  size_t len = 0;
  for (;;) {
    long n = sys3(__NR_read, fd, buf + len, cap - 1 - len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  sys1(__NR_close, fd);
  buf[len] = '\0';
  memset(out, 0, sizeof *out);
  for (const char *s = buf; *s;) {
    struct range r;
    r.start = parse_hex(&s);
    ++s;
    r.end = parse_hex(&s);
    /* path: after the 5th space-separated field */
    const char *p = s;
    int fields = 0;
    while (*p && *p != '\n' && fields < 4) {
      while (*p == ' ') ++p;
      while (*p && *p != ' ' && *p != '\n') ++p;
      ++fields;
    }
    while (*p == ' ') ++p;
    if (name_is(p, "[vvar]")) out->vvar = r;
    else if (name_is(p, "[vvar_vclock]")) out->vclock = r;
    else if (name_is(p, "[vdso]")) out->vdso = r;
    if (out->count < 512) out->ranges[out->count++] = r;
    while (*s && *s != '\n') ++s;
    if (*s) ++s;
  }
}

static int overlaps(uint64_t a, uint64_t b, const struct range *r, int n) {
  for (int i = 0; i < n; ++i)
    if (a < r[i].end && r[i].start < b) return 1;
  return 0;
}

static int overlaps_plan(uint64_t a, uint64_t b, const struct plan_header *plan) {
  const struct plan_vma *v = (const struct plan_vma *)((const char *)plan + plan->vma_off);
  for (uint32_t i = 0; i < plan->vma_count; ++i)
    if (a < v[i].end && v[i].start < b) return 1;
  uint64_t lo = plan->vvar_start, hi = plan->vdso_start + plan->vdso_size;
  if (plan->vvar_size && a < hi && lo < b) return 1;
  return 0;
}

/* A free range of `size` bytes that overlaps neither the saved mappings nor
 * anything mapped now (nor `extra`). */
static uint64_t find_hole(uint64_t size, const struct plan_header *plan, const struct current_maps *cur,
                          const struct range *extra, int extra_n) {
  uint64_t candidates[2 + 512 + 4];
  int n = 0;
  candidates[n++] = 0x10000000ull;
  candidates[n++] = 0x200000000000ull;
  for (int i = 0; i < cur->count; ++i) candidates[n++] = cur->ranges[i].end + 16 * PAGE;
  for (int i = 0; i < extra_n; ++i) candidates[n++] = extra[i].end + 16 * PAGE;
  for (int i = 0; i < n; ++i) {
    uint64_t c = (candidates[i] + PAGE - 1) & ~(PAGE - 1);
    if (c + size > TASK_TOP) continue;
    if (overlaps(c, c + size, cur->ranges, cur->count) || overlaps_plan(c, c + size, plan) ||
        overlaps(c, c + size, extra, extra_n))
      continue;
    return c;
  }
  /* Fall back to the ends of the saved mappings. */
  const struct plan_vma *v = (const struct plan_vma *)((const char *)plan + plan->vma_off);
  for (uint32_t i = 0; i < plan->vma_count; ++i) {
    uint64_t c = v[i].end + 16 * PAGE;
    if (c + size > TASK_TOP) continue;
    if (overlaps(c, c + size, cur->ranges, cur->count) || overlaps_plan(c, c + size, plan) ||
        overlaps(c, c + size, extra, extra_n))
      continue;
    return c;
  }
  fail(ENOMEM_, "no free address range for the restorer");
}

/* ---- stage 2: runs from the copy inside the hole ---- */

static void unmap_all_but(const struct hole_layout *h, struct current_maps *cur) {
  read_current_maps((char *)h->scratch, SCRATCH_SIZE / 2, cur);
  for (int i = 0; i < cur->count; ++i) {
    struct range r = cur->ranges[i];
    if (r.start >= h->base && r.end <= h->base + h->size) continue;
    if (r.start == cur->vvar.start || r.start == cur->vclock.start || r.start == cur->vdso.start) continue;
    if (r.start >= TASK_TOP) continue; /* [vsyscall] */
    sys2(__NR_munmap, r.start, r.end - r.start);
  }
}

static void move_vdso(const struct hole_layout *h, const struct plan_header *plan, const struct current_maps *cur) {
  if (!plan->vdso_size) fail(EINVAL_, "the image records no [vdso]");
  if (cur->vdso.end - cur->vdso.start != plan->vdso_size || cur->vvar.end - cur->vvar.start != plan->vvar_size ||
      cur->vclock.end - cur->vclock.start != plan->vclock_size)
    fail(EINVAL_, "the kernel's vDSO layout differs from the one in the image");
  struct range pieces_now[3] = {cur->vvar, cur->vclock, cur->vdso};
  uint64_t targets[3] = {plan->vvar_start, plan->vclock_start, plan->vdso_start};
  if (pieces_now[0].start == targets[0] && pieces_now[1].start == targets[1] && pieces_now[2].start == targets[2])
    return;
  /* Through a temporary place, so a target never overlaps its own source. */
  uint64_t span = cur->vdso.end > cur->vvar.end ? cur->vdso.end : cur->vvar.end;
  uint64_t low = cur->vvar.start < cur->vdso.start ? cur->vvar.start : cur->vdso.start;
  if (cur->vclock.start && cur->vclock.start < low) low = cur->vclock.start;
  struct range keep[2] = {{h->base, h->base + h->size}, {low, span}};
  uint64_t tmp = find_hole(span - low, plan, cur, keep, 2);
  for (int i = 0; i < 3; ++i) {
    if (!pieces_now[i].start) continue;
    uint64_t len = pieces_now[i].end - pieces_now[i].start;
    long r = sys5(__NR_mremap, pieces_now[i].start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
                  tmp + (pieces_now[i].start - low));
    if (r < 0) fail((int)-r, "cannot move the vDSO");
  }
  for (int i = 0; i < 3; ++i) {
    if (!pieces_now[i].start) continue;
    uint64_t len = pieces_now[i].end - pieces_now[i].start;
    long r = sys5(__NR_mremap, tmp + (pieces_now[i].start - low), len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
                  targets[i]);
    if (r < 0) fail((int)-r, "cannot move the vDSO to its saved address");
  }
}

static int prot_of(uint32_t flags) {
  return ((flags & 1) ? PROT_READ : 0) | ((flags & 2) ? PROT_WRITE : 0) | ((flags & 4) ? PROT_EXEC : 0);
}

#define VMA_SHARED 8
#define VMA_ANON 16
#define VMA_GROWSDOWN 32

static void read_fully(int fd, uint64_t addr, uint64_t len, uint64_t off) {
  while (len > 0) {
    uint64_t chunk = len > 0x40000000ull ? 0x40000000ull : len;
    long n = sys4(__NR_pread64, fd, addr, chunk, off);
    if (n < 0) fail((int)-n, "cannot read page data from the image");
    if (n == 0) fail(EIO_, "image is truncated: page data missing");
    addr += (uint64_t)n;
    off += (uint64_t)n;
    len -= (uint64_t)n;
  }
}

static void map_memory(const struct plan_header *plan) {
  const struct plan_vma *vmas = (const struct plan_vma *)((const char *)plan + plan->vma_off);
  const struct plan_run *runs = (const struct plan_run *)((const char *)plan + plan->run_off);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (uint32_t i = 0; i < plan->vma_count; ++i) {
    const struct plan_vma *v = &vmas[i];
    uint64_t len = v->end - v->start;
    int prot = prot_of(v->flags);
    int object = (v->flags & PLAN_VMA_OBJECT) != 0;
    /* Saved pages are read in (objects: only checksummed, which a write seal allows). */
    int map_prot = v->run_count ? (prot | PROT_READ | (object ? 0 : PROT_WRITE)) : prot;
    int anon = (v->flags & VMA_ANON) && !object;
    int flags = MAP_FIXED_NOREPLACE | ((v->flags & VMA_SHARED) ? MAP_SHARED : MAP_PRIVATE);
    if (anon) flags |= MAP_ANONYMOUS;
    if (v->flags & VMA_GROWSDOWN) flags |= MAP_GROWSDOWN;
    uint64_t saved = 0;
    for (uint32_t r = 0; r < v->run_count; ++r) saved += runs[v->first_run + r].pages * PAGE;
    if (anon && saved * 2 >= len) flags |= MAP_POPULATE; /* fault in bulk, not per page */
    long addr = sys6(__NR_mmap, v->start, len, map_prot, flags, anon ? -1 : v->fd, anon ? 0 : v->file_offset);
    if (addr < 0) fail((int)-addr, "cannot map a saved memory region");
    if ((uint64_t)addr != v->start) fail(EINVAL_, "a saved memory region landed at the wrong address");
    for (uint32_t r = 0; r < v->run_count; ++r) {
      const struct plan_run *run = &runs[v->first_run + r];
      if (!object) read_fully(plan->image_fd, run->start, run->pages * PAGE, run->data_offset);
      XXH3_64bits_update(&state, (const void *)run->start, run->pages * PAGE);
    }
  }
  if (XXH3_64bits_digest(&state) != plan->pages_hash)
    fail(EINVAL_, "image is corrupt: page data checksum mismatch");
  for (uint32_t i = 0; i < plan->vma_count; ++i) {
    const struct plan_vma *v = &vmas[i];
    int prot = prot_of(v->flags);
    if (v->run_count && prot != (prot | PROT_READ | PROT_WRITE)) {
      long r = sys3(__NR_mprotect, v->start, v->end - v->start, prot);
      if (r < 0) fail((int)-r, "cannot set the protection of a saved memory region");
    }
  }
}

struct mm_map {
  uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
  uint64_t arg_start, arg_end, env_start, env_end;
  uint64_t *auxv;
  uint32_t auxv_size;
  uint32_t exe_fd;
};

static void set_mm_layout(const struct plan_header *plan) {
  uint64_t auxv[64];
  memcpy(auxv, plan->auxv, sizeof auxv);
  struct mm_map m = {plan->start_code, plan->end_code, plan->start_data, plan->end_data, plan->start_brk,
                     plan->brk,        plan->start_stack, plan->arg_start, plan->arg_end,  plan->env_start,
                     plan->env_end,    auxv,           plan->auxv_words * 8u, (uint32_t)plan->exe_fd};
  long r = sys5(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
  if (r < 0 && plan->exe_fd >= 0) { /* changing /proc/self/exe needs privileges; the rest does not */
    m.exe_fd = (uint32_t)-1;
    r = sys5(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
  }
  if (r < 0) fail((int)-r, "the kernel refused the saved memory layout (PR_SET_MM_MAP)");
}

/* "fd N" into buf (at least 16 bytes). */
static void fd_text(char *buf, int32_t fd) {
  char digits[12];
  int n = 0;
  uint32_t v = (uint32_t)fd;
  do digits[n++] = (char)('0' + v % 10); while ((v /= 10) && n < 11);
  buf[0] = 'f'; buf[1] = 'd'; buf[2] = ' ';
  int i = 3;
  while (n) buf[i++] = digits[--n];
  buf[i] = 0;
}

/* Takes back the file locks the process held, through the same fds. A
 * conflicting lock taken by another process meanwhile fails the restart. */
static void take_locks(const struct plan_header *plan) {
  const struct plan_lock *locks = (const struct plan_lock *)((const char *)plan + plan->lock_off);
  for (uint32_t i = 0; i < plan->lock_count; ++i) {
    const struct plan_lock *l = &locks[i];
    long r;
    if (l->kind == PLAN_LOCK_FLOCK) {
      r = sys2(__NR_flock, l->fd, (l->write ? LOCK_EX : LOCK_SH) | LOCK_NB);
    } else {
      struct flock fl;
      memset(&fl, 0, sizeof fl);
      fl.l_type = l->write ? F_WRLCK : F_RDLCK;
      fl.l_whence = 0; /* SEEK_SET */
      fl.l_start = l->start;
      fl.l_len = l->len;
      r = sys3(__NR_fcntl, l->fd, l->kind == PLAN_LOCK_OFD ? F_OFD_SETLK : F_SETLK, (long)&fl);
    }
    if (r < 0) {
      char msg[160];
      fd_text(msg, l->fd);
      const char *why = r == -11 || r == -13 /* EAGAIN, EACCES */
                            ? ": cannot take back its file lock: another process holds a conflicting one"
                            : ": cannot take back its file lock";
      size_t n = str_len(msg), w = str_len(why);
      memcpy(msg + n, why, w + 1);
      fail((int)-r, msg);
    }
  }
}

static struct restore_info *g_info; /* in the hole copy, for new threads */

/* First code of a recreated thread: on its temporary stack in the hole, with
 * FS already set by clone3. */
static void thread_entry(uint64_t thread_addr) {
  const struct plan_thread *t = (const struct plan_thread *)thread_addr;
  if (t->clear_child_tid) sys1(__NR_set_tid_address, t->clear_child_tid);
  if (t->robust_list_head) sys2(__NR_set_robust_list, t->robust_list_head, t->robust_list_len);
  jump_to_context(&t->park, (uint64_t)g_info);
}

struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static void create_threads(const struct hole_layout *h, const struct plan_header *plan,
                           const struct plan_thread *threads) {
  for (uint32_t i = 0; i < plan->thread_count; ++i) {
    const struct plan_thread *t = &threads[i];
    if (t->is_main) continue;
    int32_t tid = t->tid;
    struct clone_args_v2 a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS;
    a.stack = h->thread_stacks + i * THREAD_STACK;
    a.stack_size = THREAD_STACK;
    a.tls = t->fs_base;
    if (plan->restore_tids) {
      a.set_tid = (uint64_t)&tid;
      a.set_tid_size = 1;
    }
    long r = clone3_run(&a, sizeof a, thread_entry, (uint64_t)t);
    /* Past "go" there is nobody to report to: the process cannot continue. */
    if (r < 0) {
      sys3(__NR_write, 2, "cr_restorer: cannot recreate a thread\n", 38);
      sys1(__NR_exit_group, 70);
    }
  }
}

static void stage2(uint64_t layout_addr) {
  struct hole_layout h = *(const struct hole_layout *)layout_addr;
  const struct plan_header *plan = (const struct plan_header *)h.plan;
  struct current_maps *cur = (struct current_maps *)(h.scratch + SCRATCH_SIZE / 2);
  unmap_all_but(&h, cur);
  move_vdso(&h, plan, cur);
  map_memory(plan);
  set_mm_layout(plan);

  const struct plan_fd_flag *fdf = (const struct plan_fd_flag *)((const char *)plan + plan->fd_flag_off);
  for (uint32_t i = 0; i < plan->fd_flag_count; ++i)
    if (fdf[i].cloexec) sys3(__NR_fcntl, fdf[i].fd, F_SETFD, FD_CLOEXEC);

  /* The mapping fds and the exe fd have served: closing them now, before
   * the locks are taken, cannot drop a POSIX lock (a close of any fd of a
   * file releases the process's POSIX locks on it). */
  const struct plan_vma *mapped = (const struct plan_vma *)((const char *)plan + plan->vma_off);
  for (uint32_t i = 0; i < plan->vma_count; ++i)
    if (mapped[i].fd >= 0) sys1(__NR_close, mapped[i].fd);
  if (plan->exe_fd >= 0) sys1(__NR_close, plan->exe_fd);
  take_locks(plan);

  struct plan_status ready;
  memset(&ready, 0, sizeof ready);
  if (sys3(__NR_write, plan->status_fd, &ready, sizeof ready) != (long)sizeof ready) sys1(__NR_exit_group, 1);
  char go = 0;
  if (sys3(__NR_read, plan->go_fd, &go, 1) != 1 || go != 'g') sys1(__NR_exit_group, 1);

  /* Close the rest of what cr_restart gave us; the program must not see it. */
  sys1(__NR_close, plan->image_fd);
  sys1(__NR_close, plan->status_fd);
  sys1(__NR_close, plan->go_fd);
  sys1(__NR_close, h.plan_fd);

  const struct plan_thread *threads = (const struct plan_thread *)((const char *)plan + plan->thread_off);
  const struct plan_thread *main_thread = &threads[0];
  for (uint32_t i = 0; i < plan->thread_count; ++i)
    if (threads[i].is_main) main_thread = &threads[i];
  struct restore_info *info = (struct restore_info *)h.info;
  info->magic = REPRISE_INFO_MAGIC;
  info->hole_start = h.base;
  info->hole_len = h.size;
  info->thread_count = plan->thread_count;
  info->threads_arrived = 0;
  info->go = 0;
  info->departed = 0;
  g_info = info;
  create_threads(&h, plan, threads);

  sys2(__NR_arch_prctl, ARCH_SET_FS, main_thread->fs_base);
  if (main_thread->clear_child_tid) sys1(__NR_set_tid_address, main_thread->clear_child_tid);
  if (main_thread->robust_list_head) sys2(__NR_set_robust_list, main_thread->robust_list_head, main_thread->robust_list_len);
  jump_to_context(&main_thread->park, (uint64_t)info);
}

/* ---- stage 1: runs where exec put us ---- */

static int32_t parse_int(const char *s) {
  int32_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return v;
}

struct elf_ehdr_min {
  unsigned char ident[16];
  uint16_t type, machine;
  uint32_t version;
  uint64_t entry, phoff, shoff;
  uint32_t flags;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf_phdr_min {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

void restorer_main(uint64_t *sp) {
  uint64_t all = ~0ull;
  sys4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &all, 0, 8);
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  if (argc < 2) fail(EINVAL_, "usage: cr_restorer PLAN_FD (started by cr_restart)");
  int32_t plan_fd = parse_int(argv[1]);
  struct { uint64_t pad[6]; int64_t size; uint64_t pad2[10]; } st; /* struct stat: st_size at 48 */
  if (sys2(__NR_fstat, plan_fd, &st) < 0) fail(EINVAL_, "no restore plan");
  uint64_t plan_size = (uint64_t)st.size;
  long mapped = sys6(__NR_mmap, 0, plan_size, PROT_READ, MAP_PRIVATE, plan_fd, 0);
  if (mapped < 0) fail((int)-mapped, "cannot map the restore plan");
  const struct plan_header *plan = (const struct plan_header *)mapped;
  if (plan->magic != REPRISE_PLAN_MAGIC || plan->size != plan_size) fail(EINVAL_, "bad restore plan");
  g_status_fd = plan->status_fd;

  /* Our own extent, from the program headers of the loaded image. */
  const struct elf_ehdr_min *eh = (const struct elf_ehdr_min *)__ehdr_start;
  const struct elf_phdr_min *ph = (const struct elf_phdr_min *)(__ehdr_start + eh->phoff);
  uint64_t code_size = 0;
  for (int i = 0; i < eh->phnum; ++i)
    if (ph[i].type == 1 /* PT_LOAD */ && ph[i].vaddr + ph[i].memsz > code_size) code_size = ph[i].vaddr + ph[i].memsz;
  code_size = (code_size + PAGE - 1) & ~(PAGE - 1);
  uint64_t plan_pages = (plan_size + PAGE - 1) & ~(PAGE - 1);
  uint64_t hole_size = code_size + PAGE + plan_pages + SCRATCH_SIZE + STACK_SIZE + plan->thread_count * THREAD_STACK;

  /* Parse the current maps into a temporary buffer (on the current stack). */
  static struct current_maps cur; /* .bss: copied with us, harmless */
  char buf[32768];
  read_current_maps(buf, sizeof buf, &cur);
  uint64_t hole = find_hole(hole_size, plan, &cur, 0, 0);
  long r = sys6(__NR_mmap, hole, hole_size, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (r < 0 || (uint64_t)r != hole) fail(ENOMEM_, "cannot map the restorer's hole");

  for (int i = 0; i < eh->phnum; ++i)
    if (ph[i].type == 1) memcpy((char *)hole + ph[i].vaddr, __ehdr_start + ph[i].vaddr, ph[i].memsz);
  struct hole_layout layout;
  layout.base = hole;
  layout.size = hole_size;
  layout.info = hole + code_size;
  layout.plan = layout.info + PAGE;
  layout.scratch = layout.plan + plan_pages;
  layout.stack_top = layout.scratch + SCRATCH_SIZE + STACK_SIZE - 64;
  layout.thread_stacks = layout.scratch + SCRATCH_SIZE + STACK_SIZE;
  layout.plan_fd = plan_fd;
  memcpy((void *)layout.plan, plan, plan_size);
  _Static_assert(sizeof(struct hole_layout) <= 64, "the layout sits in the top 64 bytes of the stack");
  memcpy((void *)(layout.stack_top), &layout, sizeof layout);
  uint64_t delta = hole - (uint64_t)__ehdr_start;
  void (*moved)(uint64_t) = (void (*)(uint64_t))((uint64_t)&stage2 + delta);
  switch_stack_call(layout.stack_top - 16, moved, layout.stack_top);
}
