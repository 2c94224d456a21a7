/* Leaves an untraced child behind its parent: CLONE_UNTRACED is raced into
 * clone3's flags as in clone3_race.c, with CLONE_VFORK, so the calling
 * thread waits inside clone3 for its child. Once a child got away
 * untraced, the process exits: that thread's clone3 never returns.
 *
 * A traced child (every child natively) exits at once. An untraced one
 * under the jail gets ENOSYS for every traced call: it says so in shared
 * memory and spins. The main thread then prints "orphan PID" (from the
 * cloning thread's /proc children list) and exits. Prints "no orphan"
 * when ATTEMPTS calls made none.
 * With "fork", the untraced child first forks a child of its own (clone
 * must be an allow-forever syscall for it), and "grandchild PID" follows.
 * Usage: clone3_orphan [ATTEMPTS [fork]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct clone_args args = { .flags = CLONE_VFORK, .exit_signal = SIGCHLD };
static volatile int done, cloner_tid;
static volatile int *escaped;  /* shared with the children: escaped, grandchild's pid */
static int attempts, forks;

static void *flip(void *unused)
{
	(void)unused;
	while (!done)
		__atomic_xor_fetch(&args.flags, CLONE_UNTRACED, __ATOMIC_RELAXED);
	return NULL;
}

static void *clone_loop(void *unused)
{
	(void)unused;
	cloner_tid = gettid();
	for (int i = 0; i < attempts && !*escaped; i++) {
		long pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid == 0) {
			if (syscall(SYS_getppid) == -1 && errno == ENOSYS) {
				if (forks) {
					long grandchild = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
					if (grandchild == 0)
						for (;;)
							;
					escaped[1] = grandchild;
				}
				*escaped = 1;
				for (;;)
					;
			}
			syscall(SYS_exit_group, 0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t flipper, cloner;

	attempts = argc > 1 ? atoi(argv[1]) : 2000;
	forks = argc > 2 && strcmp(argv[2], "fork") == 0;
	escaped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_create(&flipper, NULL, flip, NULL);
	pthread_create(&cloner, NULL, clone_loop, NULL);
	while (!done && !*escaped)
		usleep(1000);
	if (*escaped) {
		char path[64], children[64] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", cloner_tid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(children, sizeof(children), f))
				children[0] = 0;
			fclose(f);
		}
		printf("orphan %d\n", atoi(children));
		if (forks)
			printf("grandchild %d\n", escaped[1]);
		fflush(stdout);
		_exit(0);  /* the cloning thread dies in clone3 */
	}
	pthread_join(cloner, NULL);
	pthread_join(flipper, NULL);
	printf("no orphan\n");
	return 0;
}
