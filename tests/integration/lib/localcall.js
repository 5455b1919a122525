// A call kept inside the gateway (tenant local_calls) between two raw
// SIP-over-WebSocket clients (lib/sip.js, registered, with .contactUri):
// the caller INVITEs with a WebRTC offer, the callee rings and answers, the
// caller ACKs. Shared by the admin API and wtpfctl tests.
'use strict';
const { request, branch, rand } = require('./sip');

const FP = Array(32).fill('AB').join(':');
const OFFER = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${FP}`,
  'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=sendrecv', ''].join('\r\n');
const ANSWER = OFFER.replace('a=setup:actpass', 'a=setup:active').replace('a=group:BUNDLE 0\r\n', '');

const NAMES = { via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq' };

// Sends a response to request m from client c (To gets toTag when given).
function reply(c, m, status, reason, o = {}) {
  const lines = ['via', 'from', 'to', 'call-id', 'cseq'].map((h) => {
    let v = m.all(h, false).join(', ');
    if (h === 'to' && o.toTag) v += `;tag=${o.toTag}`;
    return `${NAMES[h]}: ${v}`;
  });
  if (o.contact) lines.push(`Contact: <${o.contact}>`);
  const body = o.body || '';
  if (body) lines.push('Content-Type: application/sdp');
  c.send(`SIP/2.0 ${status} ${reason}\r\n${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

// caller calls `to` (a URI) as `from`; callee rings (onRinging awaited
// then), answers, and the caller ACKs. Resolves with { callId, fromTag,
// inv (what the callee got), ok (what the caller got) }.
async function localCall(caller, callee, { from, to, onRinging }) {
  const o = { callId: rand(8), fromTag: rand(4) };
  caller.send(request({ method: 'INVITE', uri: to, from, fromTag: o.fromTag, callId: o.callId, cseq: 1,
    branch: branch(), to, headers: { Contact: `<${caller.contactUri}>`, 'Content-Type': 'application/sdp' },
    body: OFFER }));
  const inv = await callee.next((m) => m.method === 'INVITE');
  reply(callee, inv, 180, 'Ringing', { toTag: 'callee1' });
  if (onRinging) await onRinging();
  reply(callee, inv, 200, 'OK', { toTag: 'callee1', contact: callee.contactUri, body: ANSWER });
  const ok = await caller.next((m) => m.status === 200 && m.cseqMethod === 'INVITE');
  const toTag = /tag=([^;>\s]+)/.exec(ok.get('to'))[1];
  const target = /<([^>]+)>/.exec(ok.get('contact'))[1];
  caller.send(request({ method: 'ACK', uri: target, from, fromTag: o.fromTag, to, toTag,
    callId: o.callId, cseq: 1 }));
  await callee.next((m) => m.method === 'ACK');
  return { ...o, inv, ok };
}

module.exports = { OFFER, ANSWER, reply, localCall };
