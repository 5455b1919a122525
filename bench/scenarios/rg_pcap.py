#!/usr/bin/env python3
"""Ring-group fan-out times from a loopback capture (bench/run, scenario 4).

usage: rg_pcap.py FILE.pcap --ws-port P --trunk-port T [--json]

Reads a pcap file written by tcpdump on lo (framed by ws_pcap.py) and
finds, for every call that came in on the trunk (a SIP
INVITE over UDP to port T, the first copy of each Call-ID):

  * the INVITEs the gateway sent to WebSocket clients (text frames from
    port P) whose From user is the trunk INVITE's From user;
  * the first 2xx to one of those INVITEs from a client (a masked frame to
    port P), and the CANCELs the gateway then sent on the other legs.

It prints one JSON object: per call, the number of legs, the time from the
INVITE in to the last INVITE out ("fanout_ms"), the time from the 200 in to
the last CANCEL out ("cancel_ms"), and the counts.
"""
import argparse
import json
import re
import sys

from ws_pcap import header, ws_frames


def from_user(msg):
    f = header(msg, rb'(?:From|f)')
    m = re.search(r'<?(?:sip|sips|tel):([^@;>]+)', f)
    return m.group(1) if m else ''


def analyse(path, ws_port, trunk_port):
    to_client, from_client, trunk = ws_frames(path, ws_port, trunk_port)
    calls, seen = [], set()
    for t, msg, _ in trunk:
        if not msg.startswith(b'INVITE '):
            continue
        cid = header(msg, rb'(?:Call-ID|i)')
        if cid in seen:
            continue   # a retransmission
        seen.add(cid)
        calls.append({'t_in': t, 'from': from_user(msg), 'legs': {}})
    by_from = {c['from']: c for c in calls}
    leg_call = {}
    for t, msg, _ in to_client:
        if msg.startswith(b'INVITE '):
            c = by_from.get(from_user(msg))
            cid = header(msg, rb'(?:Call-ID|i)')
            if c and cid not in c['legs']:
                c['legs'][cid] = {'t_inv': t}
                leg_call[cid] = c
    for t, msg, _ in from_client:
        if not msg.startswith(b'SIP/2.0 2'):
            continue
        if 'INVITE' not in header(msg, rb'CSeq'):
            continue
        c = leg_call.get(header(msg, rb'(?:Call-ID|i)'))
        if c and 't_200' not in c:
            c['t_200'] = t
    for t, msg, _ in to_client:
        if msg.startswith(b'CANCEL '):
            cid = header(msg, rb'(?:Call-ID|i)')
            c = leg_call.get(cid)
            if c and 't_cancel' not in c['legs'][cid]:
                c['legs'][cid]['t_cancel'] = t
    result = []
    for c in calls:
        invs = sorted(l['t_inv'] for l in c['legs'].values())
        cans = sorted(l['t_cancel'] for l in c['legs'].values() if 't_cancel' in l)
        r = {'from': c['from'], 'legs': len(invs), 'cancels': len(cans),
             'fanout_ms': round((invs[-1] - c['t_in']) * 1e3, 3) if invs else None,
             'first_invite_ms': round((invs[0] - c['t_in']) * 1e3, 3) if invs else None,
             'cancel_ms': None}
        if 't_200' in c and cans:
            r['cancel_ms'] = round((cans[-1] - c['t_200']) * 1e3, 3)
        result.append(r)
    return {'calls': result, 'frames_to_clients': len(to_client),
            'frames_from_clients': len(from_client), 'trunk_datagrams': len(trunk)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('pcap')
    ap.add_argument('--ws-port', type=int, required=True)
    ap.add_argument('--trunk-port', type=int, required=True)
    a = ap.parse_args()
    json.dump(analyse(a.pcap, a.ws_port, a.trunk_port), sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
