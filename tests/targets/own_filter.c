/* Stacks a seccomp filter of its own that refuses getppid with errno 42 (as
 * a sandboxing program would), makes many refused calls, which never stop in
 * the jail, then calls that the jail traces and prints what they returned. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 42),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};
	long refused = argc > 1 ? atol(argv[1]) : 100000;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return 2;
	for (long i = 0; i < refused; i++)
		if (syscall(SYS_getppid) != -1)
			return 3;
	for (int i = 0; i < 5; i++)
		printf("gettid=%ld\n", syscall(SYS_gettid));
	printf("getpid=%ld\n", syscall(SYS_getpid));
	return 0;
}
