/**
 * @file w8_recv.c  Bounded reads from a trunk's TCP connections (over
 * TLS, Sofia reads one record, at most 16 KiB, by itself).
 *
 * Sofia-SIP reads a stream with one recv() of everything the socket holds
 * (its size from su_getmsgsize(), FIONREAD) into one buffer. Each message
 * it then parses out of that buffer moves the rest into a new buffer
 * (msg_next()): with a backlog of n messages that is O(n^2) copying, and
 * each message keeps a buffer the size of the backlog behind it for as
 * long as its transaction lives. A P-CSCF that sends faster than the
 * gateway reads (a burst, a busy moment) thus made it copy gigabytes and
 * grow by hundreds of megabytes a second, which made the backlog longer:
 * measured here at 2,400 calls/s, the process reached 3.9 GB and a full
 * core within seconds and stopped answering.
 *
 * The process therefore defines su_getmsgsize(), which libsofia calls:
 * for a stream socket it says at most W8_RECV_MAX bytes, so a read takes
 * at most that much, the rest waits in the kernel (whose window slows the
 * sender) and the next loop turn reads on. A datagram's size passes
 * unchanged: a UDP read must take the whole datagram.
 */
#include "w8_priv.h"

#include <dlfcn.h>
#include <sys/socket.h>
#include <sofia-sip/su.h>

typedef issize_t su_getmsgsize_f(su_socket_t s);

static unsigned long capped;

issize_t su_getmsgsize(su_socket_t s)
{
	static su_getmsgsize_f *real;
	issize_t n;
	int type = 0;
	socklen_t len = sizeof type;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "su_getmsgsize");
	if (!real)
		return -1;
	n = real(s);
	if (n <= W8_RECV_MAX ||
	    getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		return n;
	capped++;
	return W8_RECV_MAX;
}

unsigned long w8_reads_bounded(void)
{
	return capped;
}
