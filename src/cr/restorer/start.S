/* Entry and control transfers of the restorer; it has no libc and no crt. */
    .text
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp
    movq %rsp, %rdi          /* argc, argv, envp, auxv live here */
    andq $-16, %rsp
    call restorer_main
    hlt
    .size _start, .-_start

/* switch_stack_call(new_sp, fn, arg): runs fn(arg) on new_sp; fn never returns. */
    .globl switch_stack_call
    .hidden switch_stack_call
    .type switch_stack_call, @function
switch_stack_call:
    movq %rdi, %rsp
    movq %rdx, %rdi
    xorl %ebp, %ebp
    call *%rsi
    hlt
    .size switch_stack_call, .-switch_stack_call

/* jump_to_context(ctx, value): loads a ParkContext saved by the agent's
 * reprise_park and "returns" from that call with %rax = value. */
    .globl jump_to_context
    .hidden jump_to_context
    .type jump_to_context, @function
jump_to_context:
    movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq 56(%rdi), %rcx
    movq 48(%rdi), %rsp
    movq %rsi, %rax
    jmp *%rcx
    .size jump_to_context, .-jump_to_context
    .section .note.GNU-stack,"",@progbits
