// What the call tests read in the gateway's log about a call (the call core
// tags each of its lines "call=<id>"):
//   call=7 outbound call from <aor> to <number> via trunk ims
//   call=7 offer toward IMS: kind=webrtc m=audio:9:sendrecv bundle=no hold=no ice-restart=yes fp-changed=yes
//   call=7 outbound call <aor> ended: <why> (calls left: <n>)
// Waits go through the gateway helper's waitLog, from a mark taken before
// the call started, so that an earlier call's lines never count.
'use strict';
const assert = require('node:assert/strict');

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The call core's id of the outbound call to `number` placed after `mark`.
async function outboundCallId(gw, mark, number, timeoutMs = 3000) {
  const line = await gw.waitLog(new RegExp(`call=(\\d+) outbound call from \\S+ to ${esc(number)} via trunk`),
    timeoutMs, mark);
  return Number(/call=(\d+) /.exec(line)[1]);
}

// Waits for the end line of a call (after `mark`) whose reason matches `why`
// (a RegExp, or a string matched literally) and asserts it leaves no call
// behind: "(calls left: 0)". `id`, when known, pins the line to that call.
async function assertEndedClean(gw, mark, why, { id, timeoutMs = 3000 } = {}) {
  const w = why instanceof RegExp ? why.source : esc(why);
  const who = id ? `call=${id} ` : 'call=\\d+ ';
  const line = await gw.waitLog(
    new RegExp(`${who}(outbound|inbound) call \\S+ ended: (?:${w}) \\(calls left: \\d+\\)$`), timeoutMs, mark);
  assert.match(line, /\(calls left: 0\)$/, `the gateway keeps no call after this one ended:\n${line}`);
  return line;
}

// Every SDP summary line of call `id` toward `to` ('IMS' or 'the browser')
// after `mark`, in order.
function sdpLines(gw, mark, id, kind = 'offer', to = 'IMS') {
  const re = new RegExp(`call=${id} ${kind} toward ${esc(to)}: `);
  return gw.lines.slice(mark).filter((l) => re.test(l));
}

module.exports = { outboundCallId, assertEndedClean, sdpLines };
