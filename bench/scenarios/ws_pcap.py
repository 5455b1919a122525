"""WebSocket frames from a loopback capture (for rg_pcap.py, reg_pcap.py).

Standard library only: a minimal pcap reader (IPv4), TCP reassembly per
direction and WebSocket framing with unmasking. A connection is framed
from its SYN, so the capture must start before the connections open.
"""
import re
import struct

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
            raise SystemExit(f'ws_pcap: link type {linktype} not supported')
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

    def __init__(self, conn):
        self.conn = conn      # the client's end: (address, port)
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
                payload = unmask(payload, key)
            if b0 & 0x0f in (0, 1):
                out.append((t, payload, self.conn))


def unmask(payload, key):
    """A client frame's payload XOR its 4-byte masking key."""
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, 'big') ^ int.from_bytes(k, 'big')).to_bytes(n, 'big')


def header(msg, name):
    m = re.search(rb'^' + name + rb'\s*:\s*(.*?)\r?$', msg, re.M | re.I)
    return m.group(1).decode('latin-1') if m else ''


def ws_frames(path, ws_port, udp_port=None):
    """The text frames of every TCP connection to ws_port in the capture,
    as (to_client, from_client, udp): lists of (time_s, payload, conn);
    conn is the client's (address, port). udp has the payloads of the
    datagrams to udp_port."""
    streams = {}
    to_client, from_client, udp = [], [], []
    for t, pkt in packets(path):
        ip = ipv4(pkt)
        if not ip:
            continue
        proto, src, dst, payload = ip
        if proto == 17 and len(payload) >= 8 and udp_port is not None:
            _sport, dport = struct.unpack('>HH', payload[:4])
            if dport == udp_port:
                udp.append((t, payload[8:], None))
        elif proto == 6 and len(payload) >= 20:
            sport, dport, seq = struct.unpack('>HHI', payload[:8])
            off = (payload[12] >> 4) * 4
            flags = payload[13]
            if ws_port not in (sport, dport):
                continue
            key = (src, sport, dst, dport)
            conn = (dst, dport) if sport == ws_port else (src, sport)
            st = streams.get(key)
            if st is None:
                st = streams[key] = Stream(conn)
            out = to_client if sport == ws_port else from_client
            st.add(seq, flags & 0x02, payload[off:], t, out)
    return to_client, from_client, udp
