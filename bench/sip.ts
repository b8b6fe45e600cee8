// npm run bench:sip — the SIP core's figures: parse + serialize rate, and the calls/s a minimal UAS of ours answers.
import { benchParse, describeReference } from './sip-parse.ts';
import { benchUas } from './sip-uas.ts';

const parse = await benchParse();
console.log(`parse of a typical INVITE:           ${Math.round(parse.parsePerSec).toLocaleString('en')} messages/s (one core)`);
console.log(`parse + serialize (one header edit): ${Math.round(parse.roundTripPerSec).toLocaleString('en')} messages/s (one core, target 500,000)`);
console.log(describeReference(parse));
const uas = await benchUas();
console.log(
  `minimal UAS vs sipp -sn uac over UDP: ${Math.round(uas.callsPerSec).toLocaleString('en')} calls/s, ` +
    `${uas.failed} failed, ${uas.retransmissions} retransmissions (target 5,000 calls/s, zero failures)`,
);
