/* A probe for the seccomp tests, run inside containers (static, no dependencies):
 *   syscall NR [ARG...]      syscall(NR, ARG...) on the native ABI
 *   int80 NR [ARG...]        the same through the i386 compat entry (int $0x80)
 * Prints "ok RET" or "err ERRNO" and exits 0; a filter that kills shows as a signal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s syscall|int80 NR [ARG...]\n", argv[0]);
        return 2;
    }
    long a[6] = {0};
    for (int i = 3; i < argc && i < 9; i++)
        a[i - 3] = (long)strtoull(argv[i], NULL, 0);
    long nr = strtol(argv[2], NULL, 0);
    long ret;
    if (argv[1][0] == 'i') {
        ret = int80(nr, a[0], a[1], a[2]);
        if (ret < 0 && ret > -4096) {
            printf("err %ld\n", -ret);
            return 0;
        }
    } else {
        ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (ret == -1) {
            printf("err %d\n", errno);
            return 0;
        }
    }
    printf("ok %ld\n", ret);
    return 0;
}
