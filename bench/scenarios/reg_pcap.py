#!/usr/bin/env python3
"""REGISTER latency added by the target, from a loopback capture (bench/run,
scenario 5).

usage: reg_pcap.py FILE.pcap --ws-port P

Reads a pcap file written by tcpdump on lo from before the clients
connected (framed by ws_pcap.py). A REGISTER transaction is a request
frame from a client to port P and the first final response to it (same
connection, Call-ID and CSeq) in a frame from port P. Its latency is the
time between the two on the wire at the target's port: what the target
adds (its socket queue and its processing), without the load generator's
own queueing, which the client-side figures include.

A refresh is a REGISTER on a Call-ID after the first one answered 200
(the initial registration, which for a digest target follows a 401).
It prints one JSON object: percentiles of refreshes and of initial
registrations, counts, and the statuses of the final responses.
"""
import argparse
import json
import re
import sys

from ws_pcap import header, ws_frames


def cseq(msg):
    m = re.match(r'\s*(\d+)\s+(\S+)', header(msg, rb'CSeq'))
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def pct(values, p):
    """Nearest-rank percentile of values (sorted), or None."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, -(-len(values) * p // 100) - 1))
    return round(values[int(k)] * 1e3, 3)


def summary(lat):
    lat.sort()
    return {'count': len(lat), 'p50_ms': pct(lat, 50), 'p90_ms': pct(lat, 90),
            'p99_ms': pct(lat, 99), 'max_ms': pct(lat, 100)}


def analyse(path, ws_port):
    to_client, from_client, _ = ws_frames(path, ws_port)
    tx = {}          # (conn, call-id, cseq) -> [t_request, t_final, status]
    for t, msg, conn in from_client:
        if not msg.startswith(b'REGISTER '):
            continue
        n, _m = cseq(msg)
        key = (conn, header(msg, rb'(?:Call-ID|i)'), n)
        tx.setdefault(key, [t, None, None])     # a retransmission keeps the first
    statuses = {}
    for t, msg, conn in to_client:
        if not msg.startswith(b'SIP/2.0 '):
            continue
        code = int(msg[8:11])
        n, method = cseq(msg)
        if code < 200 or method != 'REGISTER':
            continue
        x = tx.get((conn, header(msg, rb'(?:Call-ID|i)'), n))
        if x and x[1] is None:
            x[1], x[2] = t, code
            statuses[code] = statuses.get(code, 0) + 1
    first_ok = {}    # (conn, call-id) -> CSeq of its first 200
    for (conn, cid, n), (_t0, t1, code) in tx.items():
        if code == 200 and (first_ok.get((conn, cid)) is None or n < first_ok[(conn, cid)]):
            first_ok[(conn, cid)] = n
    refresh, initial, unanswered = [], [], 0
    for (conn, cid, n), (t0, t1, _code) in tx.items():
        if t1 is None:
            unanswered += 1
            continue
        f = first_ok.get((conn, cid))
        (refresh if f is not None and n > f else initial).append(t1 - t0)
    return {'refresh': summary(refresh), 'initial': summary(initial),
            'unanswered': unanswered, 'statuses': statuses,
            'frames_to_clients': len(to_client), 'frames_from_clients': len(from_client)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('pcap')
    ap.add_argument('--ws-port', type=int, required=True)
    a = ap.parse_args()
    json.dump(analyse(a.pcap, a.ws_port), sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
