/* Register-state survival test (idea of CRIU's zdtm fpu01, written anew).
 * usage: fpu_regs [iterations=30] [interval_ms=50]
 *
 * Each iteration:
 *  1. one inline-asm block loads distinctive values into general registers
 *     (r8-r10, r12-r15), the x87 stack (8 values), MXCSR and the x87 control
 *     word, and every vector register the CPU has (xmm0-15, or ymm0-15 with
 *     AVX, or zmm0-31 and k0-7 with AVX-512); then it sleeps with a raw
 *     nanosleep syscall (a syscall preserves all of these; a libc call would
 *     not), then it stores every register back. The checkpoint signal almost
 *     always arrives during that sleep, so a restart must bring back exactly
 *     the register file the kernel saved in the signal frame.
 *  2. C compares what was stored with what was loaded.
 *  3. a floating-point computation whose state carries over between
 *     iterations is printed in hex (%a), so it must match an uninterrupted
 *     run bit for bit.
 * Values change every iteration, so stale state from an earlier iteration
 * would be caught too. */
#include <math.h>
#include <stddef.h>

#include "prog_util.h"

/* Layout shared with the asm below: offsets are hard-coded there. */
struct regs {
    unsigned char vec[32][64]; /* 0:    zmm/ymm/xmm n at n*64 */
    unsigned char x87[8][16];  /* 2048: 80-bit values, 16-byte slots */
    uint64_t gpr[7];           /* 2176: r8 r9 r10 r12 r13 r14 r15 */
    uint16_t kmask[8];         /* 2232: k0-k7 (low 16 bits) */
    uint32_t mxcsr;            /* 2248 */
    uint16_t fcw;              /* 2252 */
    uint16_t pad;
    struct timespec sleep_for; /* 2256: nanosleep argument */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct regs, x87) == 2048, "asm offsets");
_Static_assert(offsetof(struct regs, gpr) == 2176, "asm offsets");
_Static_assert(offsetof(struct regs, kmask) == 2232, "asm offsets");
_Static_assert(offsetof(struct regs, mxcsr) == 2248, "asm offsets");
_Static_assert(offsetof(struct regs, fcw) == 2252, "asm offsets");
_Static_assert(offsetof(struct regs, sleep_for) == 2256, "asm offsets");

#define S(x) #x
#define X87_LOAD(n) "fldt 2048+" S(n) "*16(%[w])\n\t"
#define X87_STORE(n) "fstpt 2048+" S(n) "*16(%[g])\n\t"
#define X87_LOAD_ALL X87_LOAD(0) X87_LOAD(1) X87_LOAD(2) X87_LOAD(3) X87_LOAD(4) X87_LOAD(5) X87_LOAD(6) X87_LOAD(7)
/* the last value loaded is st(0), so pop in reverse order */
#define X87_STORE_ALL X87_STORE(7) X87_STORE(6) X87_STORE(5) X87_STORE(4) X87_STORE(3) X87_STORE(2) X87_STORE(1) X87_STORE(0)

#define GPR_LOAD                                                                                   \
    "mov 2176(%[w]), %%r8\n\tmov 2184(%[w]), %%r9\n\tmov 2192(%[w]), %%r10\n\t"                    \
    "mov 2200(%[w]), %%r12\n\tmov 2208(%[w]), %%r13\n\tmov 2216(%[w]), %%r14\n\t"                  \
    "mov 2224(%[w]), %%r15\n\t"
#define GPR_STORE                                                                                  \
    "mov %%r8, 2176(%[g])\n\tmov %%r9, 2184(%[g])\n\tmov %%r10, 2192(%[g])\n\t"                    \
    "mov %%r12, 2200(%[g])\n\tmov %%r13, 2208(%[g])\n\tmov %%r14, 2216(%[g])\n\t"                  \
    "mov %%r15, 2224(%[g])\n\t"

/* Control registers get the iteration's values on entry and the saved
 * defaults back on exit so that C code never runs with odd rounding. */
#define CTRL_LOAD "stmxcsr %[smx]\n\tfnstcw %[scw]\n\tldmxcsr 2248(%[w])\n\tfldcw 2252(%[w])\n\t"
#define CTRL_STORE "stmxcsr 2248(%[g])\n\tfnstcw 2252(%[g])\n\tldmxcsr %[smx]\n\tfldcw %[scw]\n\t"
#define SLEEP "mov $35, %%eax\n\tlea 2256(%[w]), %%rdi\n\txor %%esi, %%esi\n\tsyscall\n\t"

#define COMMON_CLOBBERS                                                                            \
    "memory", "rax", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",   \
        "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "xmm0", "xmm1",      \
        "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",         \
        "xmm12", "xmm13", "xmm14", "xmm15"

#define V16(op, n) op " " S(n) "*64(%[w]), %%xmm" S(n) "\n\t"
#define V16S(op, n) op " %%xmm" S(n) ", " S(n) "*64(%[g])\n\t"
#define V32(op, n) op " " S(n) "*64(%[w]), %%ymm" S(n) "\n\t"
#define V32S(op, n) op " %%ymm" S(n) ", " S(n) "*64(%[g])\n\t"
#define V64(op, n) op " " S(n) "*64(%[w]), %%zmm" S(n) "\n\t"
#define V64S(op, n) op " %%zmm" S(n) ", " S(n) "*64(%[g])\n\t"
#define ALL16(M, op)                                                                               \
    M(op, 0) M(op, 1) M(op, 2) M(op, 3) M(op, 4) M(op, 5) M(op, 6) M(op, 7) M(op, 8) M(op, 9)     \
        M(op, 10) M(op, 11) M(op, 12) M(op, 13) M(op, 14) M(op, 15)
#define UPPER16(M, op)                                                                             \
    M(op, 16) M(op, 17) M(op, 18) M(op, 19) M(op, 20) M(op, 21) M(op, 22) M(op, 23) M(op, 24)     \
        M(op, 25) M(op, 26) M(op, 27) M(op, 28) M(op, 29) M(op, 30) M(op, 31)
#define K_LOAD(n) "kmovw 2232+" S(n) "*2(%[w]), %%k" S(n) "\n\t"
#define K_STORE(n) "kmovw %%k" S(n) ", 2232+" S(n) "*2(%[g])\n\t"

static void roundtrip_sse(struct regs *w, struct regs *g)
{
    uint32_t smx;
    uint16_t scw;
    __asm__ volatile(CTRL_LOAD X87_LOAD_ALL ALL16(V16, "movdqu") GPR_LOAD SLEEP GPR_STORE
                         ALL16(V16S, "movdqu") X87_STORE_ALL CTRL_STORE
                     : [smx] "+m"(smx), [scw] "+m"(scw)
                     : [w] "r"(w), [g] "r"(g)
                     : COMMON_CLOBBERS);
}

__attribute__((target("avx"))) static void roundtrip_avx(struct regs *w, struct regs *g)
{
    uint32_t smx;
    uint16_t scw;
    __asm__ volatile(CTRL_LOAD X87_LOAD_ALL ALL16(V32, "vmovdqu") GPR_LOAD SLEEP GPR_STORE
                         ALL16(V32S, "vmovdqu") X87_STORE_ALL CTRL_STORE "vzeroupper\n\t"
                     : [smx] "+m"(smx), [scw] "+m"(scw)
                     : [w] "r"(w), [g] "r"(g)
                     : COMMON_CLOBBERS);
}

__attribute__((target("avx512f"))) static void roundtrip_avx512(struct regs *w, struct regs *g)
{
    uint32_t smx;
    uint16_t scw;
    __asm__ volatile(CTRL_LOAD X87_LOAD_ALL ALL16(V64, "vmovdqu64") UPPER16(V64, "vmovdqu64")
                         K_LOAD(0) K_LOAD(1) K_LOAD(2) K_LOAD(3) K_LOAD(4) K_LOAD(5) K_LOAD(6)
                             K_LOAD(7) GPR_LOAD SLEEP GPR_STORE ALL16(V64S, "vmovdqu64")
                                 UPPER16(V64S, "vmovdqu64") K_STORE(0) K_STORE(1) K_STORE(2)
                                     K_STORE(3) K_STORE(4) K_STORE(5) K_STORE(6) K_STORE(7)
                                         X87_STORE_ALL CTRL_STORE "vzeroupper\n\t"
                     : [smx] "+m"(smx), [scw] "+m"(scw)
                     : [w] "r"(w), [g] "r"(g)
                     : COMMON_CLOBBERS, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
                       "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",
                       "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
}

enum level { LEVEL_SSE, LEVEL_AVX, LEVEL_AVX512 };

static void make_expected(struct regs *w, long iter, long interval_ms)
{
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(iter + 1) * 0x100000001b3ULL;
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < sizeof w->vec; i += 8) {
        uint64_t v = xorshift64s(&state);
        memcpy(&w->vec[0][0] + i, &v, 8);
    }
    for (int k = 0; k < 8; k++) {
        long double v = ((long double)(iter * 8 + k) + 0.5L) / 3.0L * (k % 2 ? -1.0L : 1.0L);
        memcpy(w->x87[k], &v, 10);
    }
    for (int k = 0; k < 7; k++)
        w->gpr[k] = xorshift64s(&state);
    for (int k = 0; k < 8; k++)
        w->kmask[k] = (uint16_t)xorshift64s(&state);
    /* all exceptions masked, FTZ+DAZ on, rounding mode varies by iteration */
    w->mxcsr = 0x1f80u | 0x8040u | (uint32_t)(iter % 4) << 13;
    /* exceptions masked, precision and rounding vary by iteration */
    w->fcw = (uint16_t)(0x037fu & ~0x0f00u) | (uint16_t)((iter % 4) << 10) | (uint16_t)((iter % 2 ? 0 : 2) << 8);
    w->sleep_for.tv_sec = interval_ms / 1000;
    w->sleep_for.tv_nsec = (interval_ms % 1000) * 1000000L;
}

/* Returns the name of the first register that differs, or NULL. */
static const char *compare(const struct regs *w, const struct regs *g, enum level level)
{
    static char name[32];
    static const char *const gpr_names[7] = {"r8", "r9", "r10", "r12", "r13", "r14", "r15"};
    for (int k = 0; k < 7; k++)
        if (w->gpr[k] != g->gpr[k])
            return gpr_names[k];
    for (int k = 0; k < 8; k++)
        if (memcmp(w->x87[k], g->x87[k], 10) != 0) {
            snprintf(name, sizeof name, "x87 value %d", k);
            return name;
        }
    if (w->mxcsr != g->mxcsr)
        return "mxcsr";
    if (w->fcw != g->fcw)
        return "x87 control word";
    int count = level == LEVEL_AVX512 ? 32 : 16;
    size_t width = level == LEVEL_AVX512 ? 64 : level == LEVEL_AVX ? 32 : 16;
    const char *prefix = level == LEVEL_AVX512 ? "zmm" : level == LEVEL_AVX ? "ymm" : "xmm";
    for (int k = 0; k < count; k++)
        if (memcmp(w->vec[k], g->vec[k], width) != 0) {
            snprintf(name, sizeof name, "%s%d", prefix, k);
            return name;
        }
    if (level == LEVEL_AVX512)
        for (int k = 0; k < 8; k++)
            if (w->kmask[k] != g->kmask[k]) {
                snprintf(name, sizeof name, "k%d", k);
                return name;
            }
    return NULL;
}

/* A computation whose state carries over between iterations; printed in hex
 * so any change in a single bit (lost register, wrong rounding) shows. */
static double fp_state = 1.0;
static long double ld_state = 1.0L;
static float f_state = 1.0f;

static void fp_step(long iter)
{
    double acc = fp_state;
    for (int k = 0; k < 20000; k++) {
        acc = acc * 0.9999993 + sin(acc + k * 1e-3) * 1e-4 + sqrt((double)(k + iter));
        acc = fmod(acc, 1000.0);
    }
    fp_state = acc;
    long double l = ld_state;
    for (int k = 0; k < 5000; k++)
        l = l * 1.0000001L + 1.0L / (long double)(k + 3 + iter);
    ld_state = fmodl(l, 1e6L);
    float f = f_state;
    for (int k = 0; k < 5000; k++)
        f = f * 0.999f + expf((float)(k % 7) * 0.01f);
    f_state = f;
}

int main(int argc, char **argv)
{
    note_start("fpu_regs");
    long iterations = arg_long(argc, argv, 1, 30);
    long interval_ms = arg_long(argc, argv, 2, 50);

    __builtin_cpu_init();
    enum level level = LEVEL_SSE;
    if (__builtin_cpu_supports("avx"))
        level = LEVEL_AVX;
    if (__builtin_cpu_supports("avx512f"))
        level = LEVEL_AVX512;
    printf("vector level: %s\n", level == LEVEL_AVX512 ? "avx512 (zmm0-31, k0-7)"
                                 : level == LEVEL_AVX  ? "avx (ymm0-15)"
                                                       : "sse (xmm0-15)");
    fflush(stdout);

    static struct regs want, got;
    for (long iter = 0; iter < iterations; iter++) {
        make_expected(&want, iter, interval_ms);
        memset(&got, 0, sizeof got);
        switch (level) {
        case LEVEL_AVX512: roundtrip_avx512(&want, &got); break;
        case LEVEL_AVX: roundtrip_avx(&want, &got); break;
        default: roundtrip_sse(&want, &got); break;
        }
        const char *bad = compare(&want, &got, level);
        if (bad) {
            printf("MISMATCH iteration %ld: %s changed\n", iter, bad);
            return 1;
        }
        fp_step(iter);
        printf("iter %ld: registers intact; fp=%a ld=%La f=%a\n", iter, fp_state, ld_state,
               (double)f_state);
        fflush(stdout);
    }
    printf("fpu_regs done\n");
    return 0;
}
