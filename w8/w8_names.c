/**
 * @file w8_names.c  No blocking name look-up on the trunk once it runs.
 *
 * Sofia-SIP resolves requests' targets with its asynchronous resolver, but
 * a response goes where the request's top Via says (RFC 3261 18.2.2): to a
 * maddr, or to the Via host when a message is refused before "received"
 * is added (a SIP/7.0 request). Sofia's transport resolves such a name with
 * su_getaddrinfo(), a blocking getaddrinfo() in the gateway's one thread:
 * a single datagram naming a host whose DNS never answers stalls every
 * WebSocket, call and admin request for the resolver's timeout.
 *
 * The process therefore defines su_getaddrinfo(): libsofia's calls land
 * here. Until w8_names_freeze() they pass unchanged (binding the trunks
 * resolves their own addresses). Afterwards only numeric addresses are
 * resolved (AI_NUMERICHOST, which never touches DNS); a name is refused,
 * logged, and the response it was for is not sent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "w8_priv.h"
#include "util/log.h"

#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <sofia-sip/su.h>

typedef int su_getaddrinfo_f(char const *, char const *,
			     su_addrinfo_t const *, su_addrinfo_t **);

static bool frozen;
static unsigned long refused;

int su_getaddrinfo(char const *node, char const *service,
		   su_addrinfo_t const *hints, su_addrinfo_t **res)
{
	static su_getaddrinfo_f *real;
	su_addrinfo_t h;
	int err;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "su_getaddrinfo");
	if (!real)
		return EAI_SYSTEM;
	if (!frozen || !node)
		return real(node, service, hints, res);
	if (hints)
		h = *hints;
	else
		memset(&h, 0, sizeof h);
	h.ai_flags |= AI_NUMERICHOST;
	err = real(node, service, &h, res);
	if (err == EAI_NONAME) {
		refused++;
		/* bounded: the first ten, then every thousandth */
		if (refused <= 10 || refused % 1000 == 0)
			log_warn("w8", 0, "not sending to '%.64s': a host name at "
				 "run time (a Via maddr or host) is not looked "
				 "up in the signalling thread (%lu refused)",
				 node, refused);
	}
	return err;
}

void w8_names_freeze(bool on)
{
	frozen = on;
}
