/**
 * @file ctl_http.c  wtpfctl's HTTP/1.1 client (see ctl_http.h): getaddrinfo,
 * a non-blocking connect and poll() against one deadline, the request in
 * one piece, then the answer read until its Content-Length (or the close),
 * chunked bodies decoded.
 */
#include "gateway/ctl/ctl_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTL_MAX_ANSWER (64u << 20)   /* refuse answers larger than this */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @p events on @p fd until @p deadline: 1 ready, 0 timed out,
 * -1 error (errno). */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
	} while (n == 0 || (n < 0 && errno == EINTR));
	return n < 0 ? -1 : 1;
}

int ctl_url_parse(const char *url, struct ctl_target *t, char *err,
		  size_t errsize)
{
	const char *h = url, *end, *colon;
	size_t n;

	if (strncasecmp(h, "http://", 7)) {
		snprintf(err, errsize, "'%s': only http://HOST:PORT is supported",
			 url);
		return -1;
	}
	h += 7;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			goto bad;
		n = (size_t)(end - h - 1);
		if (!n || n >= sizeof t->host)
			goto bad;
		memcpy(t->host, h + 1, n);
		t->host[n] = '\0';
		h = end + 1;
	} else {
		n = strcspn(h, ":/");
		if (!n || n >= sizeof t->host)
			goto bad;
		memcpy(t->host, h, n);
		t->host[n] = '\0';
		h += n;
	}
	colon = *h == ':' ? h + 1 : NULL;
	if (colon) {
		char *e;
		unsigned long p = strtoul(colon, &e, 10);
		if (e == colon || p == 0 || p > 65535 || (*e && *e != '/'))
			goto bad;
		snprintf(t->port, sizeof t->port, "%lu", p);
		h = e;
	} else {
		snprintf(t->port, sizeof t->port, "80");
	}
	if (*h && strcmp(h, "/")) {
		snprintf(err, errsize, "'%s': give the listener only "
			 "(http://HOST:PORT), no path", url);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errsize, "'%s' is not a URL of the form http://HOST:PORT",
		 url);
	return -1;
}

bool ctl_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = strlen(out);

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
		if (o + (plain ? 1 : 3) >= size)
			return false;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return true;
}

/* A connected socket to @p t, or -1 with @p err filled. */
static int dial(const struct ctl_target *t, long long deadline, char *err,
		size_t errsize)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, soerr = 0;

	rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc) {
		snprintf(err, errsize, "%s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t sl = sizeof soerr;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		soerr = errno;
		if (soerr == EINPROGRESS) {
			rc = wait_fd(fd, POLLOUT, deadline);
			soerr = rc > 0 ? 0 : rc ? errno : ETIMEDOUT;
			if (!soerr && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
						 &sl))
				soerr = errno;
			if (!soerr)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errsize, "%s", strerror(soerr ? soerr : ECONNREFUSED));
	return fd;
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			int rc = wait_fd(fd, POLLOUT, deadline);
			if (rc <= 0) {
				if (!rc)
					errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The value of header @p name in the head @p h (ending at the blank line),
 * or NULL. */
static const char *header(const char *h, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(h, "\r\n"); l && l[2] != '\r';
	     l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, name, n) && l[2 + n] == ':')
			return l + 3 + n + strspn(l + 3 + n, " \t");
	return NULL;
}

/* Decodes a chunked body of @p n bytes at @p p in place; its new length,
 * or -1 when malformed or cut short. */
static long dechunk(char *p, size_t n)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *e;
		unsigned long len = strtoul(p + in, &e, 16);
		char *crlf = memmem(p + in, n - in, "\r\n", 2);
		if (e == p + in || !crlf)
			return -1;
		in = (size_t)(crlf - p) + 2;
		if (!len)
			return (long)out;
		if (len > n - in || n - in - len < 2)
			return -1;
		memmove(p + out, p + in, len);
		out += len;
		in += len + 2;
	}
}

/* Reads the whole answer of @p fd into @p a. */
static int read_answer(int fd, long long deadline, struct ctl_answer *a,
		       char *err, size_t errsize)
{
	size_t cap = 8192, len = 0, head = 0, want = (size_t)-1;
	char *buf = malloc(cap + 1);
	const char *v;
	bool chunked = false;

	if (!buf)
		goto nomem;
	for (;;) {
		ssize_t r;
		if (head && want != (size_t)-1 && len - head >= want)
			break;
		if (len == cap) {
			char *nb;
			if (cap >= CTL_MAX_ANSWER) {
				snprintf(err, errsize, "answer larger than %u bytes",
					 CTL_MAX_ANSWER);
				goto fail;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto nomem;
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			int rc = wait_fd(fd, POLLIN, deadline);
			if (rc <= 0) {
				snprintf(err, errsize, "%s while reading the answer",
					 rc ? strerror(errno) : "timed out");
				goto fail;
			}
			continue;
		}
		if (r < 0) {
			snprintf(err, errsize, "%s while reading the answer",
				 strerror(errno));
			goto fail;
		}
		if (!r)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (!head) {
			char *e = strstr(buf, "\r\n\r\n");
			if (!e)
				continue;
			head = (size_t)(e - buf) + 4;
			if ((v = header(buf, "Transfer-Encoding")) &&
			    !strncasecmp(v, "chunked", 7))
				chunked = true;
			else if ((v = header(buf, "Content-Length")))
				want = strtoull(v, NULL, 10);
		}
	}
	buf[len] = '\0';
	if (!head || sscanf(buf, "HTTP/1.%*1[01] %3d", &a->status) != 1 ||
	    a->status < 100 || a->status > 599) {
		snprintf(err, errsize, "no HTTP answer (is this the admin "
			 "listener?)");
		goto fail;
	}
	if (want != (size_t)-1 && len - head < want) {
		snprintf(err, errsize, "the answer was cut short");
		goto fail;
	}
	a->len = want != (size_t)-1 ? want : len - head;
	memmove(buf, buf + head, a->len);
	if (chunked) {
		long n = dechunk(buf, a->len);
		if (n < 0) {
			snprintf(err, errsize, "malformed chunked answer");
			goto fail;
		}
		a->len = (size_t)n;
	}
	buf[a->len] = '\0';
	a->body = buf;
	return 0;
nomem:
	snprintf(err, errsize, "out of memory");
fail:
	free(buf);
	return -1;
}

int ctl_http_request(const struct ctl_target *t, const char *method,
		     const char *path, const char *body, struct ctl_answer *a,
		     char *err, size_t errsize)
{
	long long deadline = now_ms() + (t->timeout_ms > 0 ? t->timeout_ms : 10000);
	bool v6 = strchr(t->host, ':') != NULL;
	size_t blen = body ? strlen(body) : 0;
	char auth[600] = "", clen[96] = "", *req;
	int fd, n, rc = -1;

	memset(a, 0, sizeof *a);
	if (t->token && *t->token)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n",
			 t->token);
	if (body || !strcmp(method, "POST") || !strcmp(method, "PUT"))
		snprintf(clen, sizeof clen, "%sContent-Length: %zu\r\n",
			 body ? "Content-Type: application/json\r\n" : "", blen);
	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
		     "User-Agent: wtpfctl\r\nAccept: application/json\r\n"
		     "Connection: close\r\n%s%s\r\n", method, path,
		     v6 ? "[" : "", t->host, v6 ? "]" : "", t->port, auth, clen);
	if (n < 0) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	fd = dial(t, deadline, err, errsize);
	if (fd >= 0) {
		if (send_all(fd, req, (size_t)n, deadline) ||
		    (blen && send_all(fd, body, blen, deadline)))
			snprintf(err, errsize, "%s while sending the request",
				 strerror(errno));
		else
			rc = read_answer(fd, deadline, a, err, errsize);
		close(fd);
	}
	free(req);
	return rc;
}

void ctl_answer_free(struct ctl_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
