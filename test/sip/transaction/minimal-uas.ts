import { createResponse, newTag, type SipRequest } from '../../../src/sip/message/index.ts';
import type { ServerTransaction } from '../../../src/sip/transaction/index.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

/**
 * Just enough UAS for transaction-level protocol tests: INVITE gets 200 with SDP (contact on `contact`), BYE and
 * everything else 200; ACKs (transaction-less) are counted.
 */
export function minimalUas(contact: string): {
  handler: (req: SipRequest, tx: ServerTransaction | undefined) => void;
  acks: () => number;
} {
  let acks = 0;
  return {
    acks: () => acks,
    handler(req, tx) {
      if (tx === undefined) {
        if (req.method === 'ACK') acks++;
        return;
      }
      if (req.method === 'INVITE') {
        tx.respond(
          createResponse(req, 200, undefined, {
            toTag: newTag(),
            headers: [['Contact', `<${contact}>`]],
            contentType: 'application/sdp',
            body: SDP,
          }),
        );
        return;
      }
      tx.respond(createResponse(req, 200, undefined, { toTag: newTag() }));
    },
  };
}
