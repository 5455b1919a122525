/**
 * @file fdlimit.c  Fitting RLIMIT_NOFILE to the need (see fdlimit.h).
 */
#include "util/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

unsigned long fdlimit_get(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1
					    : (unsigned long)rl.rlim_cur;
}

int fdlimit_fit(unsigned long need, unsigned long *got)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)need;
	int err = 0;

	*got = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return errno;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	if (rl.rlim_cur != want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			err = errno;
	}
	*got = fdlimit_get();
	return err;
}
