/* reprise_park(ParkContext* ctx): like setjmp for the checkpoint handler.
 * Saves the callee-saved registers, the stack pointer and the return address
 * and returns 0. After a restart the restorer loads them back and jumps to the
 * saved return address with %rax = a struct restore_info*, so the same call
 * "returns" a second time, with a non-zero value. */
    .text
    .globl reprise_park
    .type reprise_park, @function
reprise_park:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rax
    movq %rax, 48(%rdi)
    movq (%rsp), %rax
    movq %rax, 56(%rdi)
    xorl %eax, %eax
    ret
    .size reprise_park, .-reprise_park
    .section .note.GNU-stack,"",@progbits
