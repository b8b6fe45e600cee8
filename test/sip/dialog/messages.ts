import { parseMessage } from '../../../src/sip/message/parse.ts';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.ts';

function parse(lines: readonly string[]) {
  const msg = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
  if (msg instanceof Error) throw msg;
  return msg;
}

export function request(lines: readonly string[]): SipRequest {
  const msg = parse(lines);
  if (!(msg instanceof SipRequest)) throw new Error('not a request');
  return msg;
}

export function response(lines: readonly string[]): SipResponse {
  const msg = parse(lines);
  if (!(msg instanceof SipResponse)) throw new Error('not a response');
  return msg;
}
