/**
 * @file driver.c  A standalone driver for a libFuzzer harness, for builds
 * without libFuzzer (gcc): runs LLVMFuzzerTestOneInput() on every seed
 * file, then on deterministic mutations of them (bit flips, interesting
 * bytes and numbers, erased, duplicated and swapped ranges and lines,
 * dictionary tokens, splices of two seeds), so that the default test suite
 * replays the corpora and a little more on every run.
 *
 *   fuzz_NAME_replay [-n MUTATIONS] [-t SECONDS] [-m MAX_LEN] [-s SEED]
 *                    [-d DICT] [-w FILE] [-v] PATH...
 *
 * PATH is a seed file or a folder of them (not recursive). The mutations
 * stop after -n of them (default 2000) or -t seconds (default 10),
 * whichever comes first; the same -s (default 1) gives the same inputs.
 * A harness that aborts or crashes fails the run; with -w, each input is
 * written to FILE before it runs, so FILE then holds the one that did it
 * (-v names each on standard error).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

struct buf {
	uint8_t *p;
	size_t n;
};

struct bufs {
	struct buf *v;
	size_t n, cap;
};

static uint64_t rng_state;

/* xorshift64*: small, fast and the same everywhere. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static void bufs_add(struct bufs *b, uint8_t *p, size_t n)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = realloc(b->v, b->cap * sizeof *b->v);
		if (!b->v) {
			perror("realloc");
			exit(2);
		}
	}
	b->v[b->n].p = p;
	b->v[b->n++].n = n;
}

static int file_read(const char *path, struct bufs *seeds)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!fp)
		return errno;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			p = realloc(p, cap);
			if (!p) {
				perror("realloc");
				exit(2);
			}
		}
		r = fread(p + n, 1, cap - n, fp);
		n += r;
	} while (r);
	fclose(fp);
	bufs_add(seeds, p, n);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Seeds of @p path, a file or a folder, in name order. */
static int seeds_load(const char *path, struct bufs *seeds)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL, full[4096];
	size_t n = 0, cap = 0;
	DIR *dir;

	if (stat(path, &st))
		return errno;
	if (!S_ISDIR(st.st_mode))
		return file_read(path, seeds);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
		}
		names[n++] = strdup(de->d_name);
	}
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof full, "%s/%s", path, names[i]);
		if (!stat(full, &st) && S_ISREG(st.st_mode))
			file_read(full, seeds);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One dictionary line: [name=]"text" with \\, \" and \xNN escapes. */
static void dict_line(const char *line, struct bufs *dict)
{
	const char *q = strchr(line, '"'), *end = strrchr(line, '"');
	uint8_t *p;
	size_t n = 0;

	if (*line == '#' || !q || end == q)
		return;
	p = malloc((size_t)(end - q));
	for (q++; q < end; q++) {
		if (*q == '\\' && q[1] == 'x' && hexval(q[2]) >= 0 &&
		    hexval(q[3]) >= 0) {
			p[n++] = (uint8_t)(hexval(q[2]) << 4 | hexval(q[3]));
			q += 3;
		} else if (*q == '\\' && q + 1 < end) {
			p[n++] = (uint8_t)*++q;
		} else {
			p[n++] = (uint8_t)*q;
		}
	}
	if (n)
		bufs_add(dict, p, n);
	else
		free(p);
}

static void dict_load(const char *path, struct bufs *dict)
{
	FILE *fp = fopen(path, "r");
	char line[4096];

	if (!fp) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		dict_line(line + strspn(line, " \t"), dict);
	}
	fclose(fp);
}

/* ---- mutations ------------------------------------------------------ */

struct mut {
	uint8_t *p;
	size_t n, max;
	const struct bufs *seeds, *dict;
};

/* Inserts @p len bytes of @p src at @p at (as much as fits). */
static void m_insert(struct mut *m, size_t at, const uint8_t *src, size_t len)
{
	if (len > m->max - m->n)
		len = m->max - m->n;
	memmove(m->p + at + len, m->p + at, m->n - at);
	memcpy(m->p + at, src, len);
	m->n += len;
}

static void m_erase(struct mut *m, size_t at, size_t len)
{
	if (len > m->n - at)
		len = m->n - at;
	memmove(m->p + at, m->p + at + len, m->n - at - len);
	m->n -= len;
}

/* [start, end) of the line holding offset @p at, its LF included. */
static void line_of(const struct mut *m, size_t at, size_t *start, size_t *end)
{
	size_t s = at, e = at;

	while (s > 0 && m->p[s - 1] != '\n')
		s--;
	while (e < m->n && m->p[e] != '\n')
		e++;
	*start = s;
	*end = e < m->n ? e + 1 : e;
}

static const uint8_t interesting[] = {
	0, 0xff, 0x7f, 0x80, '\r', '\n', ' ', '\t', ':', ';', ',', '"', '<',
	'>', '=', '@', '%', '\\', '0', '9', '.', '-', '{', '}', '[', ']',
};

static const char *const numbers[] = {
	"0", "-1", "1", "65535", "65536", "2147483647", "2147483648",
	"4294967295", "4294967296", "18446744073709551615",
	"99999999999999999999", "00000000", "1e308", "-0", "0x10",
};

static void mutate_one(struct mut *m)
{
	size_t at = below(m->n + 1), len, s, e, s2, e2;
	const struct buf *b;
	uint8_t tmp[256];

	switch (below(11)) {
	case 0:   /* flip a bit */
		if (m->n)
			m->p[below(m->n)] ^= (uint8_t)(1u << below(8));
		break;
	case 1:   /* an interesting byte */
		if (m->n)
			m->p[below(m->n)] = interesting[below(sizeof interesting)];
		break;
	case 2:   /* erase a range */
		if (m->n)
			m_erase(m, below(m->n), 1 + below(16));
		break;
	case 3:   /* duplicate a range */
		if (m->n) {
			s = below(m->n);
			len = 1 + below(m->n - s < 64 ? m->n - s : 64);
			memcpy(tmp, m->p + s, len);
			m_insert(m, below(m->n + 1), tmp, len);
		}
		break;
	case 4:   /* insert a dictionary token */
	case 5:
		if (m->dict->n) {
			b = &m->dict->v[below(m->dict->n)];
			m_insert(m, at, b->p, b->n);
		}
		break;
	case 6:   /* overwrite with a dictionary token */
		if (m->dict->n && m->n) {
			b = &m->dict->v[below(m->dict->n)];
			at = below(m->n);
			m_erase(m, at, b->n);
			m_insert(m, at, b->p, b->n);
		}
		break;
	case 7:   /* splice: our head, another seed's tail */
		b = &m->seeds->v[below(m->seeds->n)];
		if (b->n) {
			s = below(b->n);
			m->n = at;
			m_insert(m, m->n, b->p + s, b->n - s);
		}
		break;
	case 8:   /* erase a line */
		if (m->n) {
			line_of(m, below(m->n), &s, &e);
			m_erase(m, s, e - s);
		}
		break;
	case 9:   /* duplicate a line elsewhere, or swap two lines' order */
		if (m->n) {
			line_of(m, below(m->n), &s, &e);
			len = e - s < sizeof tmp ? e - s : sizeof tmp;
			memcpy(tmp, m->p + s, len);
			line_of(m, below(m->n), &s2, &e2);
			(void)e2;
			m_insert(m, s2, tmp, len);
		}
		break;
	default:  /* a number replaced by an interesting one */
		for (s = below(m->n); s < m->n && (m->p[s] < '0' || m->p[s] > '9'); s++)
			;
		for (e = s; e < m->n && m->p[e] >= '0' && m->p[e] <= '9'; e++)
			;
		if (s < m->n) {
			const char *num = numbers[below(sizeof numbers / sizeof *numbers)];
			m_erase(m, s, e - s);
			m_insert(m, s, (const uint8_t *)num, strlen(num));
		}
		break;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *me)
{
	fprintf(stderr, "usage: %s [-n MUTATIONS] [-t SECONDS] [-m MAX_LEN] "
		"[-s SEED] [-d DICT] [-w FILE] [-v] PATH...\n", me);
	exit(2);
}

/* Runs the harness on a private copy, so that a read past the end is
 * caught by the allocator's checks where there are some. */
static const char *dump_path;

static void run(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	FILE *fp = dump_path ? fopen(dump_path, "wb") : NULL;

	if (fp) {
		fwrite(p, 1, n, fp);
		fclose(fp);
	}

	memcpy(copy, p, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
}

int main(int argc, char **argv)
{
	struct bufs seeds = { 0 }, dict = { 0 };
	unsigned long mutations = 2000, done = 0;
	double budget = 10, t0;
	size_t max_len = 16384;
	bool verbose = false;
	struct mut m;
	int opt;

	rng_state = 1;
	while ((opt = getopt(argc, argv, "n:t:m:s:d:w:v")) != -1) {
		switch (opt) {
		case 'n': mutations = strtoul(optarg, NULL, 10); break;
		case 't': budget = strtod(optarg, NULL); break;
		case 'm': max_len = strtoul(optarg, NULL, 10); break;
		case 's': rng_state = strtoull(optarg, NULL, 10) * 2 + 1; break;
		case 'd': dict_load(optarg, &dict); break;
		case 'w': dump_path = optarg; break;
		case 'v': verbose = true; break;
		default: usage(argv[0]);
		}
	}
	if (optind >= argc)
		usage(argv[0]);
	for (int i = optind; i < argc; i++) {
		int err = seeds_load(argv[i], &seeds);
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(err));
			return 2;
		}
	}
	if (!seeds.n) {
		fprintf(stderr, "%s: no seed inputs\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	t0 = now_s();
	for (size_t i = 0; i < seeds.n; i++) {
		if (verbose)
			fprintf(stderr, "seed %zu (%zu bytes)\n", i, seeds.v[i].n);
		run(seeds.v[i].p, seeds.v[i].n);
	}
	m.p = malloc(max_len + 1);
	m.max = max_len;
	m.seeds = &seeds;
	m.dict = &dict;
	for (; done < mutations && now_s() - t0 < budget; done++) {
		const struct buf *b = &seeds.v[below(seeds.n)];
		unsigned ops = 1 + (unsigned)below(4);

		m.n = b->n < max_len ? b->n : max_len;
		memcpy(m.p, b->p, m.n);
		for (unsigned k = 0; k < ops; k++)
			mutate_one(&m);
		if (verbose)
			fprintf(stderr, "mutation %lu (%zu bytes)\n", done, m.n);
		run(m.p, m.n);
	}
	printf("%s: %zu seeds and %lu mutations in %.2f s\n", argv[0], seeds.n,
	       done, now_s() - t0);
	free(m.p);
	for (size_t i = 0; i < seeds.n; i++)
		free(seeds.v[i].p);
	for (size_t i = 0; i < dict.n; i++)
		free(dict.v[i].p);
	free(seeds.v);
	free(dict.v);
	return 0;
}
