/**
 * @file ifaddrs.c  The host's interface list, as wtpf-bench needs it: empty.
 *
 * libwebsockets binds a client's source address (lws_client_connect_info
 * .iface) through lws_interface_to_sa(), which first lists every interface
 * of the host with getifaddrs() (a netlink dump per connect, about 15 % of
 * the generator's CPU when it opens 5,000 connections a second) to see
 * whether the name is an interface's. wtpf-bench only ever passes numeric
 * addresses (opts.c refuses anything else), so this executable answers
 * that the host has no named interfaces and lws goes straight on to parse
 * the address. Nothing else in the generator lists interfaces.
 */
#include <ifaddrs.h>
#include <stddef.h>

int getifaddrs(struct ifaddrs **ifap)
{
	*ifap = NULL;
	return 0;
}

void freeifaddrs(struct ifaddrs *ifa)
{
	(void)ifa;
}
