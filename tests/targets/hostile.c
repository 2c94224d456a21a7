/* Tries to stop or kill the jail from inside: signals to the parent (the
 * tracer) by pid, by group, by -1, by thread id, and through pidfds; joining
 * its process group; its rlimits, scheduling, nice value and I/O priority. Prints
 * "<attempt>=<errno name or ok>" for each; exits 0 if it is still running. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

/* <linux/ioprio.h> is newer than some libc headers */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3
#define IOPRIO_IDLE (3 << 13)

static void report(const char *what, long r)
{
    printf("%s=%s\n", what, r == 0 ? "ok" : strerrorname_np(errno));
}

int main(void)
{
    pid_t jail = getppid();
    char path[4096];
    setvbuf(stdout, NULL, _IONBF, 0);
    report("kill", kill(jail, SIGSTOP));
    report("tgkill", syscall(SYS_tgkill, jail, jail, SIGSTOP));
    report("sigqueue", sigqueue(jail, SIGSTOP, (union sigval){0}));
    report("kill_all", kill(-1, SIGSTOP));
    report("kill_group", kill(-jail, SIGSTOP)); /* the jail leads a process group */
    /* a group of our session: natively the program could join it */
    printf("jail_leads=%d\n", getpgid(jail) == jail && getsid(jail) == getsid(0));
    report("join_group", setpgid(0, jail)); /* then kill(0, ...) would reach it */
    struct rlimit cpu = {1, 1};
    report("prlimit", prlimit(jail, RLIMIT_CPU, &cpu, NULL)); /* SIGXCPU, then SIGKILL */
    struct sched_param idle = {0};
    report("sched", sched_setscheduler(jail, SCHED_IDLE, &idle));
    report("nice", setpriority(PRIO_PROCESS, jail, 19));
    report("nice_group", setpriority(PRIO_PGRP, jail, 19));
    report("ioprio", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, jail, IOPRIO_IDLE));
    report("ioprio_group", syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, jail, IOPRIO_IDLE));
    /* the same number as a user id: no such user here, whatever the jail */
    report("nice_user", setpriority(PRIO_USER, jail, 0));
    report("ioprio_user", syscall(SYS_ioprio_set, IOPRIO_WHO_USER, jail, IOPRIO_IDLE));
    /* a software event on the jail; with sigtrap it would send SIGTRAP */
    struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr,
                                   .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1};
    long pfd = syscall(SYS_perf_event_open, &attr, jail, -1, -1, 0);
    report("perf", pfd < 0 ? -1 : 0);
    /* every thread of the jail by tid */
    snprintf(path, sizeof path, "/proc/%d/task", jail);
    DIR *d = opendir(path);
    struct dirent *e;
    long worst = 0, by_kill = 0, by_queue = 0, by_sched = 0, by_perf = 0, by_nice = 0;
    int tried = 0, errno_kill = 0, errno_queue = 0, errno_sched = 0, errno_perf = 0, errno_nice = 0;
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
        if (sched_setscheduler(tid, SCHED_IDLE, &idle) == 0)
            by_sched = 1;
        errno_sched = errno;
        if (syscall(SYS_perf_event_open, &attr, tid, -1, -1, 0) >= 0)
            by_perf = 1;
        errno_perf = errno;
        if (setpriority(PRIO_PROCESS, tid, 19) == 0) /* a thread's own nice value */
            by_nice = 1;
        errno_nice = errno;
    }
    printf("tkill=%s tried=%d\n", worst ? "ok" : strerrorname_np(errno), tried);
    printf("kill_tid=%s sigqueue_tid=%s sched_tid=%s perf_tid=%s nice_tid=%s\n",
           by_kill ? "ok" : strerrorname_np(errno_kill), by_queue ? "ok" : strerrorname_np(errno_queue),
           by_sched ? "ok" : strerrorname_np(errno_sched), by_perf ? "ok" : strerrorname_np(errno_perf),
           by_nice ? "ok" : strerrorname_np(errno_nice));
    report("pidfd_open", syscall(SYS_pidfd_open, jail, 0) < 0 ? -1 : 0);
    snprintf(path, sizeof path, "/proc/%d", jail);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    report("pidfd_send_signal", syscall(SYS_pidfd_send_signal, fd, SIGSTOP, NULL, 0));
    const char *view = getenv("PROC_VIEW");  /* /proc mounted elsewhere too */
    if (view) {
        snprintf(path, sizeof path, "%s/%d", view, jail);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        report("pidfd_view", fd < 0 ? -1 : syscall(SYS_pidfd_send_signal, fd, SIGSTOP, NULL, 0));
    }
    const char *fifo_dir = getenv("FIFO_DIR");  /* a directory with a FIFO named "status" */
    if (fifo_dir) {
        fd = open(fifo_dir, O_RDONLY | O_DIRECTORY);
        report("pidfd_fifo", fd < 0 ? -1 : syscall(SYS_pidfd_send_signal, fd, SIGSTOP, NULL, 0));
    }
    report("self", kill(getpid(), 0));
    report("self_prlimit", prlimit(0, RLIMIT_CPU, NULL, &cpu));
    report("self_nice", setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0)));
    report("self_perf", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) < 0 ? -1 : 0);
    return 0;
}
