/**
 * @file fuzz_conf.c  libFuzzer harness for the configuration loader
 * (conf/): the input is a configuration file, written to a temporary
 * folder that also holds what a configuration may name (jwt/ with the
 * test keys of tests/data/jwt, admin.token, tls/), and loaded with
 * conf_load(); one that loads also goes through the services' rule
 * compilation (svc_create()) as the daemon's start does.
 * What must hold: a refusal comes with its errors, each line "FILE:LINE:
 * KEY: what" or "FILE: what"; an accepted one has none, and frees cleanly.
 */
#include "conf/conf.h"
#include "gateway/svc/svc.h"
#include "util/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WTPF_TEST_DATA
#error "WTPF_TEST_DATA must name tests/data"
#endif

static char dir[64], path[128];

/*
 * libconfig 1.5 leaks what its scanner had allocated (a string's buffer)
 * when a syntax error follows (the input '""' is enough): not ours,
 * reported in README.md, and left out of the leak checks. Allocations of
 * conf/ are made after the parse, with no libconfig frame on their stack.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}


static void dir_free(void)
{
	char p[160];
	static const char *const files[] = { "wtpf.conf", "admin.token",
		"jwt", "tls/cert.pem", "tls/key.pem", "tls", NULL };

	for (size_t i = 0; files[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p))
			rmdir(p);
	}
	rmdir(dir);
}

static void put(const char *name, const char *text)
{
	char p[160];
	FILE *fp;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fp = fopen(p, "w");
	if (!fp)
		abort();
	fputs(text, fp);
	fclose(fp);
}

static void dir_make(void)
{
	char p[160];

	snprintf(dir, sizeof dir, "%s/wtpf-fuzz-conf-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/wtpf.conf", dir);
	snprintf(p, sizeof p, "%s/jwt", dir);
	if (symlink(WTPF_TEST_DATA "/jwt", p))
		abort();
	put("admin.token", "0123456789abcdef0123456789abcdef\n");
	snprintf(p, sizeof p, "%s/tls", dir);
	mkdir(p, 0700);
	put("tls/cert.pem", "-----BEGIN CERTIFICATE-----\n");
	put("tls/key.pem", "-----BEGIN PRIVATE KEY-----\n");
	log_level_set(LOG_ERROR);
	atexit(dir_free);
}

/* One error per line, each "WHERE: what" (WHERE the file, or the file
 * and line, of the configuration or of a file it includes). */
static void errs_check(const char *errs)
{
	if (!errs || !*errs)
		abort();
	for (const char *l = errs; *l;) {
		const char *eol = strchr(l, '\n');
		const char *sep = strstr(l, ": ");
		if (!eol || eol == l || !sep || sep > eol) {
			fprintf(stderr, "not an error line: %s\n", l);
			abort();
		}
		l = eol + 1;
	}
}

/*
 * False when the input has an @include that libconfig 1.5 cannot survive:
 * a folder or any other file that is not a regular one makes its scanner
 * exit the process ("input in flex scanner failed") or block (a FIFO, a
 * terminal). Those are reported in README.md; the harness keeps to
 * regular files of its own folder.
 */
static bool includes_ok(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char name[256], full[512];
	struct stat st;

	while ((p = memmem(p, (size_t)(end - p), "@include", 8))) {
		size_t n = 0;
		p += 8;
		while (p < end && *p != '"' && *p != '\n')
			p++;
		if (p >= end || *p != '"')
			continue;
		for (p++; p < end && *p != '"' && n < sizeof name - 1; p++)
			name[n++] = *p == '\\' && p + 1 < end ? *++p : *p;
		name[n] = '\0';
		if (name[0] == '/' || strstr(name, ".."))
			return false;
		snprintf(full, sizeof full, "%s/%s", dir, name);
		if (!stat(full, &st) && !S_ISREG(st.st_mode))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = NULL;
	struct svc *svc = NULL;
	char *errs = NULL;
	FILE *fp;

	if (!dir[0])
		dir_make();
	if (!includes_ok(data, size))
		return 0;
	fp = fopen(path, "wb");
	if (!fp)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (conf_load(path, &conf, &errs)) {
		if (conf)
			abort();
		errs_check(errs);
		free(errs);
		return 0;
	}
	if (errs || !conf)
		abort();
	if (!svc_create(&svc, conf, NULL))
		svc_destroy(svc);
	conf_free(conf);
	return 0;
}
