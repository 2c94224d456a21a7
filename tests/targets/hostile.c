/* Tries to stop or kill the jail from inside: signals to the parent (the
 * tracer) by pid, by -1, by thread id, and through pidfds. Prints
 * "<attempt>=<errno name or ok>" for each; exits 0 if it is still running. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

static void report(const char *what, long r)
{
    printf("%s=%s\n", what, r == 0 ? "ok" : strerrorname_np(errno));
}

int main(void)
{
    pid_t jail = getppid();
    char path[64];
    setvbuf(stdout, NULL, _IONBF, 0);
    report("kill", kill(jail, SIGSTOP));
    report("tgkill", syscall(SYS_tgkill, jail, jail, SIGSTOP));
    report("sigqueue", sigqueue(jail, SIGSTOP, (union sigval){0}));
    report("kill_all", kill(-1, SIGSTOP));
    report("kill_group", kill(-jail, SIGSTOP)); /* the jail leads a process group */
    /* every thread of the jail by tid */
    snprintf(path, sizeof path, "/proc/%d/task", jail);
    DIR *d = opendir(path);
    struct dirent *e;
    long worst = 0, by_kill = 0, by_queue = 0;
    int tried = 0, errno_kill = 0, errno_queue = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        tried++;
        pid_t tid = atoi(e->d_name);
        /* kill() and sigqueue() of a thread id signal its whole process */
        if (kill(tid, SIGSTOP) == 0)
            by_kill = 1;
        errno_kill = errno;
        if (sigqueue(tid, SIGSTOP, (union sigval){0}) == 0)
            by_queue = 1;
        errno_queue = errno;
        if (syscall(SYS_tkill, tid, SIGSTOP) == 0)
            worst = 1;
    }
    printf("tkill=%s tried=%d\n", worst ? "ok" : strerrorname_np(errno), tried);
    printf("kill_tid=%s sigqueue_tid=%s\n", by_kill ? "ok" : strerrorname_np(errno_kill),
           by_queue ? "ok" : strerrorname_np(errno_queue));
    report("pidfd_open", syscall(SYS_pidfd_open, jail, 0) < 0 ? -1 : 0);
    snprintf(path, sizeof path, "/proc/%d", jail);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    report("pidfd_send_signal", syscall(SYS_pidfd_send_signal, fd, SIGSTOP, NULL, 0));
    report("self", kill(getpid(), 0));
    return 0;
}
