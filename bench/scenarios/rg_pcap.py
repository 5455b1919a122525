#!/usr/bin/env python3
"""Ring-group fan-out times from a loopback capture (bench/run, scenario 4).

usage: rg_pcap.py FILE.pcap --ws-port P --trunk-port T [--json]

Reads a pcap file written by tcpdump on lo (standard library only: a
minimal pcap reader, IPv4, TCP reassembly per direction, WebSocket frames
unmasked) and finds, for every call that came in on the trunk (a SIP
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
import struct
import sys

LINKTYPES = {0: 4, 1: 14, 113: 16, 276: 20}   # header bytes before IPv4


def packets(path):
    """Yields (time_s, ipv4 bytes) for each captured packet."""
    with open(path, 'rb') as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack('<I', head[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            endian = '<'
        else:
            endian = '>'
            magic = struct.unpack('>I', head[:4])[0]
        nano = magic == 0xa1b23c4d
        linktype = struct.unpack(endian + 'I', head[20:24])[0] & 0xffff
        if linktype not in LINKTYPES:
            raise SystemExit(f'rg_pcap: link type {linktype} not supported')
        skip = LINKTYPES[linktype]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + 'IIII', rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            t = sec + frac / (1e9 if nano else 1e6)
            if linktype == 1 and data[12:14] != b'\x08\x00':
                continue
            if linktype == 0 and struct.unpack('<I', data[:4])[0] != 2:
                continue
            yield t, data[skip:]


def ipv4(pkt):
    """(proto, src, dst, payload) of an IPv4 packet, or None."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    ihl = (pkt[0] & 15) * 4
    total = struct.unpack('>H', pkt[2:4])[0]
    return pkt[9], pkt[12:16], pkt[16:20], pkt[ihl:total]


class Stream:
    """One direction of a TCP connection: bytes in order, then frames."""

    def __init__(self):
        self.next_seq = None
        self.pending = {}
        self.buf = b''
        self.http_done = False

    def add(self, seq, syn, data, t, out):
        if syn:
            self.next_seq = (seq + 1) & 0xffffffff
            return
        if self.next_seq is None:
            return   # started before the capture: cannot frame it
        if data:
            self.pending[seq] = data
        while self.next_seq in self.pending:
            d = self.pending.pop(self.next_seq)
            self.next_seq = (self.next_seq + len(d)) & 0xffffffff
            self.buf += d
        # drop retransmissions of what was already taken
        for s in [s for s in self.pending if ((self.next_seq - s) & 0xffffffff) < 0x80000000]:
            d = self.pending.pop(s)
            over = (s + len(d) - self.next_seq) & 0xffffffff
            if 0 < over < len(d):
                self.pending[self.next_seq] = d[len(d) - over:]
        self.frames(t, out)

    def frames(self, t, out):
        if not self.http_done:
            end = self.buf.find(b'\r\n\r\n')
            if end < 0:
                return
            self.buf = self.buf[end + 4:]
            self.http_done = True
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = struct.unpack('>H', self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = struct.unpack('>Q', self.buf[2:10])[0], 10
            key = None
            if b1 & 0x80:
                key = self.buf[off:off + 4]
                off += 4
            if len(self.buf) < off + n:
                return
            payload = self.buf[off:off + n]
            self.buf = self.buf[off + n:]
            if key:
                payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload))
            if b0 & 0x0f in (0, 1):
                out.append((t, payload))


def header(msg, name):
    m = re.search(rb'^' + name + rb'\s*:\s*(.*?)\r?$', msg, re.M | re.I)
    return m.group(1).decode('latin-1') if m else ''


def from_user(msg):
    f = header(msg, rb'(?:From|f)')
    m = re.search(r'<?(?:sip|sips|tel):([^@;>]+)', f)
    return m.group(1) if m else ''


def analyse(path, ws_port, trunk_port):
    streams = {}
    trunk, to_client, from_client = [], [], []
    for t, pkt in packets(path):
        ip = ipv4(pkt)
        if not ip:
            continue
        proto, src, dst, payload = ip
        if proto == 17 and len(payload) >= 8:
            _sport, dport = struct.unpack('>HH', payload[:4])
            if dport == trunk_port:
                trunk.append((t, payload[8:]))
        elif proto == 6 and len(payload) >= 20:
            sport, dport, seq = struct.unpack('>HHI', payload[:8])
            off = (payload[12] >> 4) * 4
            flags = payload[13]
            if ws_port not in (sport, dport):
                continue
            key = (src, sport, dst, dport)
            st = streams.setdefault(key, Stream())
            out = to_client if sport == ws_port else from_client
            st.add(seq, flags & 0x02, payload[off:], t, out)

    calls, seen = [], set()
    for t, msg in trunk:
        if not msg.startswith(b'INVITE '):
            continue
        cid = header(msg, rb'(?:Call-ID|i)')
        if cid in seen:
            continue   # a retransmission
        seen.add(cid)
        calls.append({'t_in': t, 'from': from_user(msg), 'legs': {}})
    by_from = {c['from']: c for c in calls}
    leg_call = {}
    for t, msg in to_client:
        if msg.startswith(b'INVITE '):
            c = by_from.get(from_user(msg))
            cid = header(msg, rb'(?:Call-ID|i)')
            if c and cid not in c['legs']:
                c['legs'][cid] = {'t_inv': t}
                leg_call[cid] = c
    for t, msg in from_client:
        if not msg.startswith(b'SIP/2.0 2'):
            continue
        if 'INVITE' not in header(msg, rb'CSeq'):
            continue
        c = leg_call.get(header(msg, rb'(?:Call-ID|i)'))
        if c and 't_200' not in c:
            c['t_200'] = t
    for t, msg in to_client:
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
