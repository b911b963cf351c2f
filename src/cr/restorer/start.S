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
/* clone3_run(args, size, fn, arg): clone3; the child calls fn(arg) on the
 * stack given in args and never returns; the parent gets the child's tid
 * (or -errno). %r8/%r9 survive the syscall and are copied to the child. */
    .globl clone3_run
    .hidden clone3_run
    .type clone3_run, @function
clone3_run:
    movq %rdx, %r8
    movq %rcx, %r9
    movl $435, %eax          /* __NR_clone3 */
    syscall
    testq %rax, %rax
    jnz 1f
    xorl %ebp, %ebp
    movq %r9, %rdi
    andq $-16, %rsp
    call *%r8
    hlt
1:  ret
    .size clone3_run, .-clone3_run

    .section .note.GNU-stack,"",@progbits
