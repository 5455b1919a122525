/**
 * @file proc.c  /proc sampling (see proc.h).
 */
#include "bench/wtpf-bench/proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* The kB value of line "@p key: N kB" in @p text, or -1. */
static long kb_field(const char *text, const char *key)
{
	const char *p = text;
	size_t kl = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n') && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
		p += kl;
	}
	return -1;
}

static long count_fds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int bproc_sample_read(int pid, uint64_t now, struct bproc_sample *s)
{
	char path[64], buf[4096];
	const char *base = "/proc/self";
	char pbase[32];
	unsigned long long ut, stt;

	memset(s, 0, sizeof *s);
	s->t = now;
	s->cpu_s = -1;
	s->rss_kb = s->pss_kb = s->fds = -1;
	if (pid) {
		snprintf(pbase, sizeof pbase, "/proc/%d", pid);
		base = pbase;
	}
	snprintf(path, sizeof path, "%s/stat", base);
	if (read_text(path, buf, sizeof buf))
		return ESRCH;
	s->ok = true;
	/* fields after the command's closing parenthesis: state is 3rd,
	 * utime the 14th and stime the 15th of the line */
	const char *p = strrchr(buf, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			"%llu %llu", &ut, &stt) == 2) {
		double tck = (double)sysconf(_SC_CLK_TCK);

		s->cpu_s = (double)(ut + stt) / tck;
		s->sys_s = (double)stt / tck;
	}
	snprintf(path, sizeof path, "%s/status", base);
	if (!read_text(path, buf, sizeof buf))
		s->rss_kb = kb_field(buf, "VmRSS");
	snprintf(path, sizeof path, "%s/smaps_rollup", base);
	if (!read_text(path, buf, sizeof buf))
		s->pss_kb = kb_field(buf, "Pss");
	snprintf(path, sizeof path, "%s/fd", base);
	s->fds = count_fds(path);
	return 0;
}

static void add(long *sum, long v)
{
	if (v >= 0)
		*sum = *sum < 0 ? v : *sum + v;
}

int bproc_sample_sum(const int *pids, size_t n, uint64_t now,
		     struct bproc_sample *s)
{
	struct bproc_sample one;

	memset(s, 0, sizeof *s);
	s->t = now;
	s->cpu_s = -1;
	s->rss_kb = s->pss_kb = s->fds = -1;
	for (size_t i = 0; i < n; i++) {
		if (bproc_sample_read(pids[i], now, &one))
			continue;
		s->ok = true;
		if (one.cpu_s >= 0) {
			s->cpu_s = (s->cpu_s < 0 ? 0 : s->cpu_s) + one.cpu_s;
			s->sys_s += one.sys_s;
		}
		add(&s->rss_kb, one.rss_kb);
		add(&s->pss_kb, one.pss_kb);
		add(&s->fds, one.fds);
	}
	return s->ok ? 0 : ESRCH;
}

double bproc_cpu_pct(const struct bproc_sample *a,
		     const struct bproc_sample *b)
{
	if (!a->ok || !b->ok || a->cpu_s < 0 || b->cpu_s < 0 || b->t <= a->t)
		return -1;
	return (b->cpu_s - a->cpu_s) * 100.0 / ((double)(b->t - a->t) / 1e6);
}
