// A raw SIP-over-WebSocket WIC for the signalling-only call tests, on the
// raw client of tests/integration/lib/sip.js (read-only reuse): registers
// with a Bearer token, places a call and drives its dialog by hand.
'use strict';
const { connect, request, branch, rand } = require('../../integration/lib/sip');
const { DOMAIN, aorOf, tokenFor } = require('./env');

// A WebRTC-style offer (signalling only: nobody answers its ICE/DTLS).
const WEBRTC_OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 126', 'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0', 'a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0',
  'a=ice-ufrag:cl1V', 'a=ice-pwd:QvI4Tx9B9rDLa1Q9WQqBgARe',
  'a=fingerprint:sha-256 FB:5A:64:EB:D6:AD:65:BC:B3:81:C6:67:6D:69:53:3F:C4:1B:AD:FF:70:B2:02:04:D1:0C:C6:6E:61:CE:FF:01',
  'a=setup:actpass', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000', ''].join('\r\n');

// The answer to a WebRTC offer of one audio m-section with PCMU
// (a=setup:active, as a browser answers an actpass offer; signalling only),
// with the offer's a=mid when it has one; no BUNDLE group (the IMS side's
// offers have none, and an answer may not add one).
function webrtcAnswer(offer = '') {
  const mid = /^a=mid:(\S+)/m.exec(offer);
  return [
    'v=0', 'o=- 2890844526 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0', 'a=candidate:1 1 udp 2122260223 127.0.0.1 40002 typ host generation 0',
    'a=ice-ufrag:an5W', 'a=ice-pwd:p2Wq8Hn4Zr0Tt6Yy1Uu3Ii5O',
    'a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9',
    'a=setup:active', ...(mid ? [`a=mid:${mid[1]}`] : []), 'a=sendrecv', 'a=rtcp-mux',
    'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

class RawWic {
  constructor(gw, number) {
    this.gw = gw;
    this.number = number;
    this.aor = aorOf(number);
    this.contact = `<sip:${rand(4)}@${rand(4)}.invalid;transport=ws>`;
  }

  async register(origin) {
    this.c = await connect(this.gw.wsUrl, { origin });
    const r = await this.c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: this.aor,
      headers: { Authorization: `Bearer ${tokenFor(this.number)}`, Contact: this.contact, Expires: '600' } });
    if (r.status !== 200) throw new Error(`REGISTER of ${this.aor}: ${r.startLine}`);
    return r;
  }

  // Sends an INVITE to `target` (sip:user@acme.test) with `sdp` (the WebRTC
  // offer above unless given); resolves with the final response
  // (provisional ones in .provisional) and the dialog.
  async invite(target, timeoutMs = 10000, sdp = WEBRTC_OFFER) {
    const d = { callId: rand(10), fromTag: rand(4), cseq: 1, target };
    const rsp = await this.c.transact({ method: 'INVITE', uri: target, from: this.aor, to: target,
      callId: d.callId, fromTag: d.fromTag, cseq: 1,
      headers: { Contact: this.contact, 'Content-Type': 'application/sdp' }, body: sdp }, timeoutMs);
    d.response = rsp;
    if (rsp.status >= 200 && rsp.status < 300) {
      d.toTag = /;tag=([^;>\s]+)/.exec(rsp.get('to'))[1];
      d.remote = /<([^>]+)>/.exec(rsp.get('contact'))[1];
    }
    return d;
  }

  ack(d) {
    this.c.send(request({ method: 'ACK', uri: d.remote, from: this.aor, to: d.target,
      fromTag: d.fromTag, toTag: d.toTag, callId: d.callId, cseq: d.cseq, branch: branch() }));
  }

  // The ACK of a non-2xx final answer: same branch and Request-URI as the
  // INVITE, the answer's To (RFC 3261 17.1.1.3).
  ackFailure(d) {
    this.c.send(request({ method: 'ACK', uri: d.target, from: this.aor, to: d.target,
      fromTag: d.fromTag, callId: d.callId, cseq: d.cseq, branch: d.response.branch,
      headers: { To: d.response.get('to') } }));
  }

  bye(d) {
    d.cseq += 1;
    return this.c.transact({ method: 'BYE', uri: d.remote, from: this.aor, to: d.target,
      fromTag: d.fromTag, toTag: d.toTag, callId: d.callId, cseq: d.cseq });
  }

  // The next request from the gateway with this method.
  nextRequest(method, timeoutMs = 10000) {
    return this.c.next((m) => m.method === method, timeoutMs);
  }

  // Answers a request from the gateway (our To tag added when missing).
  reply(req, status, reason, o = {}) {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of req.all('via', false)) lines.push(`Via: ${v}`);
    lines.push(`From: ${req.get('from')}`);
    const to = req.get('to');
    lines.push(`To: ${/;tag=/.test(to) || status === 100 ? to : `${to};tag=${this.tag || (this.tag = rand(4))}`}`);
    lines.push(`Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`);
    if (status >= 180 && status < 300 && req.method === 'INVITE') lines.push(`Contact: ${this.contact}`);
    const b = o.sdp || '';
    if (b) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(b)}`);
    this.c.send(lines.join('\r\n') + '\r\n\r\n' + b);
  }

  // Drops the WebSocket without a closing handshake (a lost flow).
  drop() { this.c.ws.terminate(); return this.c.closed; }

  close() { return this.c ? this.c.close() : Promise.resolve(); }
}

module.exports = { RawWic, WEBRTC_OFFER, webrtcAnswer };
