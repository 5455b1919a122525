// A minimal P-CSCF stand-in on UDP loopback: answers OPTIONS 200, records
// the first line of everything it receives, answers nothing else (tests
// send from it or read what it saw).
'use strict';
const dgram = require('node:dgram');

async function udpPcscf() {
  const seen = [];
  const sock = dgram.createSocket('udp4');
  let probed;
  const firstProbe = new Promise((r) => { probed = r; });
  sock.on('message', (m, rinfo) => {
    const t = m.toString();
    seen.push(t.split('\r\n')[0]);
    if (!t.startsWith('OPTIONS ')) return;
    const keep = t.split('\r\n').filter((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq):/i.test(l));
    sock.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), rinfo.port, rinfo.address);
    probed();
  });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  return { sock, seen, firstProbe };
}

module.exports = { udpPcscf };
