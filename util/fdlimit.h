/**
 * @file fdlimit.h  The process's descriptor limit (RLIMIT_NOFILE), sized to
 * what the gateway needs rather than to whatever it was started with.
 *
 * Up: a shell or a container often starts a process with a soft limit of
 * 1024 under a much higher hard one, and a gateway for 19,000 browsers
 * would refuse the 1,000th. Down: libwebsockets sizes its descriptor
 * tables by the soft limit when a context is created (16 bytes a slot),
 * and the Debian build, with its debug checks, walks the whole table on
 * every accept and close; a service manager's LimitNOFILE=65536 is more
 * than 19,000 connections need. So the soft limit is set to the need,
 * within the hard limit, before any context exists.
 */
#ifndef WTPF_FDLIMIT_H
#define WTPF_FDLIMIT_H

/** Descriptors kept beyond the WebSocket connections: the trunks' sockets
 *  and connections, the admin API's clients, the store's files, the event
 *  loops' own descriptors, logs. */
#define FDLIMIT_RESERVE 512

/**
 * Sets the soft descriptor limit to @p need, or to the hard limit if that
 * is lower. @p *got gets the soft limit in force afterwards (also on
 * failure). Returns 0, or errno of getrlimit()/setrlimit().
 */
int fdlimit_fit(unsigned long need, unsigned long *got);

/** The soft descriptor limit in force now; 0 if it cannot be read. */
unsigned long fdlimit_get(void);

#endif
