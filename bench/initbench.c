/* Interleaved start-cost benchmark for PID-1 inits: for each round, run every command once (in
 * rotating order) and record wall time, CPU time (user+sys of the waited process tree) and
 * peak RSS (ru_maxrss of the child: the largest of the init and what it waited for).
 * Static and tiny, so the launcher's own pages barely count. Built by bench/inits.sh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: initbench ROUNDS 'cmd args' ...\n"); return 2; }
    int rounds = atoi(argv[1]), n = argc - 2;
    char **cmds[64]; double *wall[64], *cpu[64], *rss[64];
    for (int c = 0; c < n; c++) {
        char *s = strdup(argv[c + 2]); char **v = calloc(32, sizeof *v); int k = 0;
        for (char *tok = strtok(s, " "); tok && k < 31; tok = strtok(NULL, " ")) v[k++] = tok;
        cmds[c] = v; wall[c] = calloc(rounds, sizeof(double)); cpu[c] = calloc(rounds, sizeof(double)); rss[c] = calloc(rounds, sizeof(double));
    }
    for (int r = -2; r < rounds; r++) {            /* two warm-up rounds */
        for (int i = 0; i < n; i++) {
            int c = (i + (r < 0 ? 0 : r)) % n;
            double t0 = now();
            pid_t pid = fork();
            if (pid == 0) { execv(cmds[c][0], cmds[c]); _exit(127); }
            int st; struct rusage ru; wait4(pid, &st, 0, &ru);
            double t1 = now();
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "%s failed (status %d)\n", argv[c + 2], st); return 1; }
            if (r < 0) continue;
            wall[c][r] = (t1 - t0) * 1e3;
            cpu[c][r] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
            rss[c][r] = ru.ru_maxrss;
        }
    }
    printf("%-48s %10s %10s %10s %10s\n", "command", "wall ms", "p10-p90", "cpu ms", "maxrss KiB");
    for (int c = 0; c < n; c++) {
        qsort(wall[c], rounds, sizeof(double), cmp); qsort(cpu[c], rounds, sizeof(double), cmp); qsort(rss[c], rounds, sizeof(double), cmp);
        printf("%-48s %10.3f %4.2f-%-5.2f %10.3f %10.0f\n", argv[c + 2], wall[c][rounds / 2], wall[c][rounds / 10], wall[c][rounds * 9 / 10], cpu[c][rounds / 2], rss[c][rounds / 2]);
    }
    return 0;
}
