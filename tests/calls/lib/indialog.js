// In-dialog requests of the raw ws WIC (lib/wic.js) for the signalling-only
// cases of DESIGN.md §4.3: re-INVITE (ICE restart) and UPDATE from the
// browser side, and answers to the requests the gateway sends it. Kept
// beside wic.js, on the same raw client (tests/integration/lib/sip.js).
'use strict';
const { rand } = require('../../integration/lib/sip');
const { WEBRTC_OFFER } = require('./wic');

// The WebRTC offer of wic.js as a browser re-offers it after an ICE restart
// with a new DTLS certificate (RFC 8839 §4.4.1.1.1, RFC 8842 §5.5): new
// ice-ufrag, ice-pwd and fingerprint, o= version one up; every other byte
// the same.
const RESTART = {
  ufrag: 'rS7q',
  pwd: 'Zk3mW9pQ2xV8nB4cT6yH1jLf',
  fingerprint: 'sha-256 3C:9E:0D:51:A7:24:F8:6B:90:C2:1E:77:D4:05:BB:38:6A:F1:2C:8D:43:E9:17:60:A5:DE:0B:92:7C:31:F4:58',
};

function reoffer(sdp, { ufrag, pwd, fingerprint, version } = {}) {
  const swap = (re, line, what) => {
    if (!re.test(sdp)) throw new Error(`no ${what} line to change in:\n${sdp}`);
    sdp = sdp.replace(re, line);
  };
  if (ufrag) swap(/^a=ice-ufrag:[^\r\n]*/m, `a=ice-ufrag:${ufrag}`, 'a=ice-ufrag');
  if (pwd) swap(/^a=ice-pwd:[^\r\n]*/m, `a=ice-pwd:${pwd}`, 'a=ice-pwd');
  if (fingerprint) swap(/^a=fingerprint:[^\r\n]*/m, `a=fingerprint:${fingerprint}`, 'a=fingerprint');
  swap(/^(o=\S+ \S+ )(\d+)/m, (m, a, v) => `${a}${version || Number(v) + 1}`, 'o=');
  return sdp;
}

const ICE_RESTART_OFFER = reoffer(WEBRTC_OFFER, RESTART);

// An UPDATE's re-offer: the same ICE and DTLS, o= version one up, opus
// dropped from the m= line (its rtpmap too).
const UPDATE_OFFER = reoffer(WEBRTC_OFFER, { version: 3 })
  .replace(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 0 126/m, 'm=audio 9 UDP/TLS/RTP/SAVPF 0 126')
  .replace(/^a=rtpmap:111 opus\/48000\/2\r\n/m, '');

// A request of the WIC in dialog `d` (from RawWic.invite) with an SDP body;
// resolves with its final response. A 2xx to a re-INVITE is ACKed.
async function sdpRequest(wic, d, method, sdp, timeoutMs = 8000) {
  d.cseq += 1;
  const rsp = await wic.c.transact({ method, uri: d.remote, from: wic.aor, to: d.target,
    fromTag: d.fromTag, toTag: d.toTag, callId: d.callId, cseq: d.cseq,
    headers: { Contact: wic.contact, 'Content-Type': 'application/sdp' }, body: sdp }, timeoutMs);
  if (method === 'INVITE' && rsp.status >= 200 && rsp.status < 300) wic.ack(d);
  return rsp;
}

const reinvite = (wic, d, sdp, timeoutMs) => sdpRequest(wic, d, 'INVITE', sdp, timeoutMs);
const update = (wic, d, sdp, timeoutMs) => sdpRequest(wic, d, 'UPDATE', sdp, timeoutMs);

// Answers a request the gateway sent the WIC, as a browser does: a 2xx to
// INVITE or UPDATE carries the WIC's Contact (RFC 3261 12.1.1, RFC 3311
// 5.2), with `sdp` when given.
function answer(wic, req, status, reason, sdp = '') {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.all('via', false)) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.get('from')}`);
  const to = req.get('to');
  lines.push(`To: ${/;tag=/.test(to) ? to : `${to};tag=${wic.tag || (wic.tag = rand(4))}`}`);
  lines.push(`Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`);
  if (status >= 200 && status < 300 && /^(INVITE|UPDATE)$/.test(req.method)) lines.push(`Contact: ${wic.contact}`);
  if (sdp) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(sdp)}`);
  wic.c.send(lines.join('\r\n') + '\r\n\r\n' + sdp);
}

// The one a=group:BUNDLE line of an SDP (with its line end), '' when none.
function bundleLine(sdp) {
  const g = sdp.match(/^a=group:BUNDLE [^\r\n]*\r?\n/gm) || [];
  if (g.length > 1) throw new Error(`more than one a=group:BUNDLE line:\n${sdp}`);
  return g[0] || '';
}

// The value of an SDP attribute line (the first one), or undefined.
const attr = (sdp, name) => (new RegExp(`^a=${name}:([^\\r\\n]*)`, 'm').exec(sdp) || [])[1];

module.exports = {
  RESTART, ICE_RESTART_OFFER, UPDATE_OFFER, reoffer, reinvite, update, answer, bundleLine, attr,
};
