/* A FUSE file system served by the program itself, and a syscall whose path
 * argument points into a file of it, mapped: to read that path, the kernel
 * asks the program's server for the page, and the server answers.
 *
 * A tracer that reads the path first asks the server too, while the whole
 * program waits at a stop for it: the server cannot answer (its next
 * syscall waits for the tracer), and the two wait for ever.
 *
 * Needs root (mount). Works in a mount namespace of its own: the mount goes
 * with the program. Prints "open=<errno name>" and exits 0 when it is done.
 * Usage: fuse_pointer MOUNTPOINT [DEVICE [thread]]: DEVICE, the FUSE device
 * opened (default /dev/fuse), may be a node of it anywhere. With "thread",
 * a thread serves, and the process holds the device open till its end: the
 * server's death alone then aborts nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_INO 2
#define PATH_IN_FILE "/no/such/file/here"

static void reply(int dev, uint64_t unique, int error, const void *data, size_t size)
{
    char out[sizeof(struct fuse_out_header) + 4096];
    struct fuse_out_header *h = (struct fuse_out_header *)out;
    h->len = sizeof *h + size;
    h->error = error;
    h->unique = unique;
    memcpy(out + sizeof *h, data, size);
    if (write(dev, out, h->len) < 0 && errno != ENOENT) /* ENOENT: the request was interrupted */
        _exit(3);
}

static void attr(struct fuse_attr *a, uint64_t ino)
{
    memset(a, 0, sizeof *a);
    a->ino = ino;
    a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0444;
    a->nlink = 1;
    a->size = ino == FUSE_ROOT_ID ? 0 : 4096;
    a->blocks = 8;
    a->blksize = 4096;
}

static void serve(int dev)
{
    static char buf[1 << 17];
    for (;;) {
        ssize_t n = read(dev, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            _exit(0); /* ENODEV: unmounted */
        }
        struct fuse_in_header *in = (struct fuse_in_header *)buf;
        void *arg = buf + sizeof *in;
        switch (in->opcode) {
        case FUSE_INIT: {
            struct fuse_init_out out = {.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
                                        .max_readahead = 0, .max_write = 4096, .max_pages = 1};
            reply(dev, in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_LOOKUP: {
            struct fuse_entry_out out = {.nodeid = FILE_INO};
            if (strcmp(arg, "f") != 0) {
                reply(dev, in->unique, -ENOENT, NULL, 0);
                break;
            }
            attr(&out.attr, FILE_INO);
            reply(dev, in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_GETATTR: {
            struct fuse_attr_out out = {0};
            attr(&out.attr, in->nodeid);
            reply(dev, in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_OPEN: {
            struct fuse_open_out out = {.fh = 1};
            reply(dev, in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_READ: {
            struct fuse_read_in *r = arg;
            char page[4096] = PATH_IN_FILE;
            size_t size = r->size < sizeof page ? r->size : sizeof page;
            reply(dev, in->unique, 0, r->offset ? (char[4096]){0} : page, r->offset >= 4096 ? 0 : size);
            break;
        }
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT:
            break; /* no reply */
        case FUSE_FLUSH:
        case FUSE_RELEASE:
            reply(dev, in->unique, 0, NULL, 0);
            break;
        default:
            reply(dev, in->unique, -ENOSYS, NULL, 0);
        }
    }
}

static void *serve_thread(void *dev)
{
    serve((int)(long)dev);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuse_pointer MOUNTPOINT [DEVICE]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        perror("mount namespace");
        return 2;
    }
    int dev = open(argc > 2 ? argv[2] : "/dev/fuse", O_RDWR | O_CLOEXEC);
    char opts[128];
    snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
    if (dev < 0 || mount("fuse_pointer", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts) != 0) {
        perror("fuse");
        return 2;
    }
    int threaded = argc > 3 && strcmp(argv[3], "thread") == 0;
    pid_t server = 0;
    pthread_t thread;
    if (threaded) {
        pthread_create(&thread, NULL, serve_thread, (void *)(long)dev);
    } else {
        server = fork();
        if (server == 0)
            serve(dev);
        close(dev); /* the server's alone: if it dies, the connection is aborted and no one waits on it */
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/f", argv[1]);
    int fd = open(path, O_RDONLY);
    const char *mapped = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
        perror(path);
        return 2;
    }
    int r = open(mapped, O_RDONLY); /* the path lives in the FUSE file: ENOENT */
    printf("open=%s\n", r < 0 ? strerrorname_np(errno) : "ok");
    munmap((void *)mapped, 4096);
    close(fd);
    umount2(argv[1], MNT_DETACH);
    if (!threaded) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    return 0;
}
