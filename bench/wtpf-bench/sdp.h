/**
 * @file sdp.h  SDP that looks like a browser's (Chrome's shape): an audio
 * offer over UDP/TLS/RTP/SAVPF with ICE credentials and host candidates,
 * a DTLS fingerprint, setup:actpass, rtcp-mux, BUNDLE, mid, msid, opus and
 * the usual fallbacks; and an answer to any audio offer. No media flows:
 * the candidates point at ports nobody listens on.
 */
#ifndef WTPF_BENCH_SDP_H
#define WTPF_BENCH_SDP_H

#include <stddef.h>

/**
 * Writes an offer with host candidates on @p addr (an IPv4 address) into
 * @p buf (@p size bytes). Returns the length, or 0 when it did not fit
 * (1,600 bytes are enough).
 */
size_t bsdp_offer(const char *addr, char *buf, size_t size);

/**
 * Writes the answer to @p offer (@p len bytes): the offer's first audio
 * m-line's payload types among opus, G722, PCMU, PCMA, CN and
 * telephone-event (else its first one), its mid, BUNDLE only if offered,
 * setup:active. Returns the length, or 0 when the offer has no audio
 * m-line or @p size is too small.
 */
size_t bsdp_answer(const char *offer, size_t len, const char *addr,
		   char *buf, size_t size);

#endif
