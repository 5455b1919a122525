/**
 * @file cli.c  One-shot commands of wtpfd (see cli.h).
 */
#include "gateway/cli.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_key_check(const char *path, const char **why)
{
	struct auth_keyset *ks = NULL;
	int err = auth_keyset_load(&ks, path, why);

	auth_keyset_free(ks);
	return err;
}

/* Loads @p path; with @p keys, every issuer's key file must load too.
 * NULL after printing the errors. */
static struct conf *load(const char *path, bool keys)
{
	struct conf *conf = NULL;
	char *errs = NULL;

	if (conf_load_keys(path, keys ? cli_key_check : NULL, &conf, &errs)) {
		fprintf(stderr, "%s", errs ? errs : "configuration error\n");
		free(errs);
		return NULL;
	}
	return conf;
}

int cli_check_config(const char *path)
{
	struct conf *conf = load(path, true);

	if (!conf)
		return 1;
	conf_free(conf);
	printf("%s: configuration is valid\n", path);
	return 0;
}

static int read_password(char *buf, size_t size)
{
	if (!fgets(buf, (int)size, stdin))
		return EINVAL;
	buf[strcspn(buf, "\r\n")] = '\0';
	return *buf ? 0 : EINVAL;
}

static int user_add(const struct conf *conf, const struct conf_tenant *t,
		    const char *name, const char *pass)
{
	struct store_user u;
	struct store *st = NULL;
	char pw[256];
	int err;

	if (!pass || !strcmp(pass, "-")) {
		if (read_password(pw, sizeof pw)) {
			fprintf(stderr, "user add: no password on standard input\n");
			return 1;
		}
		pass = pw;
	}
	memset(&u, 0, sizeof u);
	if (snprintf(u.tenant, sizeof u.tenant, "%s", t->name) >= (int)sizeof u.tenant ||
	    snprintf(u.username, sizeof u.username, "%s", name) >= (int)sizeof u.username) {
		fprintf(stderr, "user add: name too long\n");
		return 1;
	}
	char md5[65];
	auth_digest_ha1(AUTH_DIGEST_MD5, name, t->domain, pass, md5);
	auth_digest_ha1(AUTH_DIGEST_SHA256, name, t->domain, pass, u.ha1_sha256);
	snprintf(u.ha1_md5, sizeof u.ha1_md5, "%.32s", md5);
	memset(pw, 0, sizeof pw);
	err = store_open(&st, conf->store.path);
	if (!err)
		err = store_user_put(st, &u);
	store_close(st);
	if (err) {
		fprintf(stderr, "user add: %s\n", strerror(err));
		return 1;
	}
	printf("user %s added to tenant %s (realm %s)\n", name, t->name, t->domain);
	return 0;
}

static int user_del(const struct conf *conf, const struct conf_tenant *t,
		    const char *name)
{
	struct store *st = NULL;
	int err = store_open(&st, conf->store.path);

	if (!err)
		err = store_user_del(st, t->name, name);
	store_close(st);
	if (err) {
		fprintf(stderr, "user del: %s\n", err == ENOENT ? "no such user"
								: strerror(err));
		return 1;
	}
	printf("user %s deleted from tenant %s\n", name, t->name);
	return 0;
}

int cli_user(int argc, char **argv)
{
	const struct conf_tenant *t;
	struct conf *conf;
	int rc = 1;

	if (argc < 6 || strcmp(argv[2], "-c") ||
	    (strcmp(argv[1], "add") && strcmp(argv[1], "del"))) {
		fprintf(stderr, "usage: wtpfd user add|del -c FILE TENANT USER [PASSWORD|-]\n");
		return 2;
	}
	conf = load(argv[3], false);
	if (!conf)
		return 1;
	t = conf_tenant_find(conf, argv[4]);
	if (!t)
		fprintf(stderr, "user: no tenant '%s' in %s\n", argv[4], argv[3]);
	else if (!strcmp(argv[1], "add"))
		rc = user_add(conf, t, argv[5], argc > 6 ? argv[6] : NULL);
	else
		rc = user_del(conf, t, argv[5]);
	conf_free(conf);
	return rc;
}

/* The first issuer of @p t that signs with HS256, with its keys loaded. */
static const struct conf_issuer *hs_issuer(const struct conf_tenant *t,
					   struct auth_keyset **ks)
{
	for (size_t k = 0; k < t->issuer_count; k++) {
		const char *why;
		if (!conf_strv_has(t->issuers[k].algorithms, "HS256"))
			continue;
		if (!auth_keyset_load(ks, t->issuers[k].keys, &why))
			return &t->issuers[k];
	}
	return NULL;
}

int cli_token(int argc, char **argv)
{
	const char *path = NULL, *tenant = NULL, *sub = NULL, *impu = NULL;
	const struct conf_issuer *is;
	const struct conf_tenant *t;
	struct auth_keyset *ks = NULL;
	struct conf *conf;
	long ttl = 3600;
	char *tok = NULL;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:t:s:i:l:")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': tenant = optarg; break;
		case 's': sub = optarg; break;
		case 'i': impu = optarg; break;
		case 'l': ttl = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!path || !tenant || !sub || ttl <= 0) {
		fprintf(stderr, "usage: wtpfd token -c FILE -t TENANT -s SUBJECT "
			"[-i IMPU] [-l TTL]\n");
		return 2;
	}
	if (!(conf = load(path, false)))
		return 1;
	t = conf_tenant_find(conf, tenant);
	is = t ? hs_issuer(t, &ks) : NULL;
	if (is)
		tok = auth_jwt_sign_hs256(ks, is->issuer, is->audience, sub, impu,
					  time(NULL), ttl);
	if (tok)
		printf("%s\n", tok);
	else
		fprintf(stderr, "token: tenant '%s' has no usable HS256 issuer\n",
			tenant);
	free(tok);
	auth_keyset_free(ks);
	conf_free(conf);
	return tok ? 0 : 1;
}
