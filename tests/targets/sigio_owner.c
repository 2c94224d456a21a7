/* Tries to make a file signal the jail: F_SETOWN, F_SETOWN_EX (pid, group,
 * thread), FIOSETOWN, SIOCSPGRP (and TIOCSPGRP) on a socket armed with O_ASYNC and
 * F_SETSIG=SIGSTOP, aimed at the jail's processes (those running the jail's
 * command line: the jail, its log writer, its helpers), their process groups
 * and the jail's threads. After every attempt the socket is made readable:
 * an owner that got through would SIGSTOP a process of the jail, and the run
 * would hang. Prints "refused=N set=M targets=K self=..."; exits 0. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int sv[2], refused, set;

static void attempt(long r)
{
    if (r == 0) {
        set++;
        write(sv[1], "x", 1); /* SIGSTOP to the owner just set */
        char c;
        read(sv[0], &c, 1);
    } else if (errno == EPERM) {
        refused++;
    }
}

static int cmdline(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return (int)n;
}

static void aim(pid_t pid, int thread)
{
    struct f_owner_ex ex = {thread ? F_OWNER_TID : F_OWNER_PID, pid};
    if (thread) {
        attempt(fcntl(sv[0], F_SETOWN_EX, &ex));
        return;
    }
    attempt(fcntl(sv[0], F_SETOWN, pid));
    attempt(fcntl(sv[0], F_SETOWN, -pid));
    attempt(fcntl(sv[0], F_SETOWN_EX, &ex));
    ex.type = F_OWNER_PGRP;
    attempt(fcntl(sv[0], F_SETOWN_EX, &ex));
    int who = pid;
    attempt(ioctl(sv[0], FIOSETOWN, &who));
    who = -pid;
    attempt(ioctl(sv[0], SIOCSPGRP, &who));
    attempt(ioctl(sv[0], TIOCSPGRP, &who)); /* a terminal's foreground group */
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t jail = getppid();
    char want[4096], got[4096], path[64];
    int len = cmdline(jail, want, sizeof want), targets = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || len <= 0)
        return 1;
    fcntl(sv[0], F_SETSIG, SIGSTOP);
    fcntl(sv[0], F_SETFL, O_ASYNC);
    DIR *d = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t pid = atoi(e->d_name);
        if (pid <= 0 || pid == getpid() || cmdline(pid, got, sizeof got) != len || memcmp(got, want, len))
            continue;
        targets++;
        aim(pid, 0);
    }
    closedir(d);
    snprintf(path, sizeof path, "/proc/%d/task", jail);
    d = opendir(path);
    while (d && (e = readdir(d)))
        if (atoi(e->d_name) > 0)
            aim(atoi(e->d_name), 1);
    printf("refused=%d set=%d targets=%d ", refused, set, targets);
    printf("self=%s\n", fcntl(sv[0], F_SETOWN, getpid()) == 0 ? "ok" : strerrorname_np(errno));
    return 0;
}
