/**
 * @file conf_fixture.h  For unit tests that need real configurations: a
 * temporary folder, configurations written there from text and loaded with
 * conf_load() (a refusal fails the test with its errors), kept until the
 * end because the code under test borrows them. Include after cmocka.h.
 */
#ifndef WTPF_TEST_CONF_FIXTURE_H
#define WTPF_TEST_CONF_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#define CONF_FIXTURE_MAX 8

struct conf_fixture {
	char dir[64];
	struct conf *confs[CONF_FIXTURE_MAX];
	size_t n;
};

/** Makes the folder /tmp/wtpf-TAG-XXXXXX. Returns 0 or -1. */
static inline int conf_fixture_init(struct conf_fixture *cf, const char *tag)
{
	snprintf(cf->dir, sizeof cf->dir, "/tmp/wtpf-%s-XXXXXX", tag);
	cf->n = 0;
	return mkdtemp(cf->dir) ? 0 : -1;
}

/** Writes @p text as the next file of the folder and loads it. */
static inline struct conf *conf_fixture_load(struct conf_fixture *cf,
					     const char *text)
{
	struct conf *conf = NULL;
	char path[160], *errs = NULL;
	FILE *fp;

	assert_true(cf->n < CONF_FIXTURE_MAX);
	snprintf(path, sizeof path, "%s/c%zu.conf", cf->dir, cf->n);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	if (conf_load(path, &conf, &errs))
		fail_msg("configuration refused:\n%s\n%s", text, errs ? errs : "?");
	assert_null(errs);
	cf->confs[cf->n++] = conf;
	return conf;
}

/** Frees the configurations (call it after whatever borrowed them) and
 * removes the folder with every file in it. */
static inline void conf_fixture_fini(struct conf_fixture *cf)
{
	struct dirent *de;
	char p[512];
	DIR *dir;

	for (size_t i = 0; i < cf->n; i++)
		conf_free(cf->confs[i]);
	dir = opendir(cf->dir);
	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", cf->dir, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(cf->dir);
}

#endif
