/**
 * The LegSignalling port on the SIP user agent: every fork is one late-offer INVITE (RFC 3725 flow I); its 2xx
 * offer, failures and BYE come back as fork events. Caller ID goes in From and P-Asserted-Identity (RFC 3325);
 * auto-answer in the headers phones actually read (Call-Info answer-after, Alert-Info info=alert-autoanswer ...).
 */
import type { Logger } from 'pino';
import type { Directory } from '../../directory/directory.ts';
import { rejectSdp } from '../../media/sdp.ts';
import { uacDialogState, type DialogState } from '../../sip/dialog/dialog-state.ts';
import { createAckFor2xx, createInDialogRequest } from '../../sip/dialog/in-dialog-request.ts';
import type { TransactionLayer } from '../../sip/transaction/transaction-layer.ts';
import { TransactionTimeoutError } from '../../sip/transaction/transaction-timeout-error.ts';
import type { Endpoint } from '../../sip/transport/endpoint.ts';
import { CallCancelledError, SipResponseError } from '../../sip/ua/errors.ts';
import type { Answer, InviteOptions, OutgoingCall, OutgoingCallError } from '../../sip/ua/outgoing-call.ts';
import { sendRequest } from '../../sip/ua/send-request.ts';
import type { Session } from '../../sip/ua/session.ts';
import type { DialogSnapshot, DialRequest, ForkEvents, InviteSnapshot, LegSignalling } from '../ports.ts';
import { createRequest, type SipRequest, type SipResponse } from '../../sip/message/index.ts';
import { restoreDialog, snapshotDialog } from './dialog-snapshot.ts';

/** What this adapter needs of the user agent. */
export interface InviteSender {
  invite(opts: InviteOptions): OutgoingCall;
}

export interface SipLegSignallingOptions {
  readonly ua: InviteSender;
  /** For BYE in dialogs rebuilt from call records. */
  readonly layer: TransactionLayer;
  readonly directory: () => Directory;
  /** Host of our From URIs toward phones (sip.public_host). */
  readonly host: string;
  readonly logger: Logger;
}

/** The common auto-answer forms: Snom/Yealink/Cisco read Call-Info, Polycom/Grandstream/Yealink Alert-Info. */
function autoAnswerHeaders(host: string): Array<readonly [string, string]> {
  return [
    ['Call-Info', `<sip:${host}>;answer-after=0`],
    ['Alert-Info', '<http://127.0.0.1>;info=alert-autoanswer;delay=0'],
    ['Alert-Info', '<http://127.0.0.1>;info=auto-answer'],
  ];
}

/**
 * A fork keeps only what its current stage needs, since a held call keeps its forks for its whole length: the
 * INVITE it sent (for a CANCEL) until the 2xx, the call until then, the answer until its ACK, then the session.
 */
interface Fork {
  call: OutgoingCall | null;
  readonly events: ForkEvents;
  readonly destination: Endpoint;
  readonly trunk: string | null;
  sent: SipRequest | null;
  answer: Answer | null;
  session: Session | null;
}

/** RFC 3261 §21: the status a failed INVITE reports to the machine (0 for a transport error). */
function statusOf(err: OutgoingCallError): number {
  if (err instanceof SipResponseError) return err.status;
  if (err instanceof CallCancelledError) return 487;
  if (err instanceof TransactionTimeoutError) return 408;
  return 0;
}

function inviteSnapshot(invite: SipRequest, peer: Endpoint): InviteSnapshot {
  return {
    uri: invite.uri,
    via: invite.getAll('via')[0] as string,
    from: invite.get('from') as string,
    to: invite.get('to') as string,
    callId: invite.callId,
    cseq: invite.cseq.seq,
    routes: invite.getAll('route') as string[],
    peer,
  };
}

function quoted(name: string): string {
  return name.includes('"') || name.includes('\\') ? `"${name.replace(/["\\]/g, '')}"` : `"${name}"`;
}

export class SipLegSignalling implements LegSignalling {
  private readonly forks = new Map<string, Fork>();
  /** Calls through each trunk now, for its max_calls. */
  private readonly trunkCalls = new Map<string, number>();
  /** The same three headers on every auto-answered INVITE: made once. */
  private readonly autoAnswer: ReadonlyArray<readonly [string, string]>;

  constructor(private readonly opts: SipLegSignallingOptions) {
    this.autoAnswer = autoAnswerHeaders(opts.host);
  }

  /** Forks with an INVITE or a session alive (for leak checks and metrics). */
  get size(): number {
    return this.forks.size;
  }

  dial(request: DialRequest, events: ForkEvents): void {
    const invite = this.inviteFor(request);
    if (typeof invite === 'string') {
      // Reported on a later turn, like any SIP answer, so the machine has finished the transition that dialed.
      queueMicrotask(() => events.failed(503, invite));
      return;
    }
    const call = this.opts.ua.invite(invite);
    const fork: Fork = {
      call,
      events,
      destination: invite.destination!,
      trunk: request.target.kind === 'trunk' ? request.target.attempt.trunk : null,
      sent: call.request ?? null,
      answer: null,
      session: null,
    };
    this.forks.set(request.forkId, fork);
    if (fork.trunk !== null) this.trunkCalls.set(fork.trunk, (this.trunkCalls.get(fork.trunk) ?? 0) + 1);
    if (fork.sent) events.sent(inviteSnapshot(fork.sent, fork.destination));
    call.on('progress', (res) => {
      // A digest challenge re-sends the INVITE with a new branch and CSeq: a CANCEL must match that one.
      const now = call.request;
      if (now && now !== fork.sent) {
        fork.sent = now;
        events.sent(inviteSnapshot(now, fork.destination));
      }
      if (res.status > 100) events.progress(res.status);
    });
    call.on('answered', (answer) => {
      const session = answer.session;
      fork.answer = answer;
      fork.session = session;
      fork.sent = null;
      fork.call = null;
      call.removeAllListeners();
      this.follow(request.forkId, fork, session);
      if (answer.sdp === undefined) {
        // A 2xx to an offerless INVITE must carry the offer (RFC 3261 §13.2.1); without one there is no session.
        answer.ack();
        this.hangUp(request.forkId, fork);
        events.failed(488, '2xx without an SDP offer');
        return;
      }
      events.answered(answer.sdp, snapshotDialog(session.dialog, fork.destination));
    });
    call.on('failed', (err) => {
      this.release(request.forkId, fork);
      events.failed(statusOf(err), err.message);
    });
  }

  /**
   * Made apart from `dial` so that the listener's scope holds the fork alone: a closure made in `dial` would share
   * its scope, and keep the OutgoingCall (and through it the answer) for as long as the call lasts.
   */
  private follow(forkId: string, fork: Fork, session: Session): void {
    session.on('ended', () => {
      this.release(forkId, fork);
      fork.events.ended();
    });
  }

  /**
   * The INVITE's options, or why there is none. Phone and trunk options have the same fields in the same order
   * (credentials undefined toward phones): the user agent reads one shape.
   */
  private inviteFor(request: DialRequest): InviteOptions | string {
    const { target, callerId } = request;
    const host = this.opts.host;
    switch (target.kind) {
      case 'phone': {
        const identity: readonly [string, string] = ['P-Asserted-Identity', `${quoted(callerId.name)} <sip:${callerId.number}@${host}>`];
        const headers = request.autoAnswer ? [identity, ...this.autoAnswer] : [identity];
        return {
          target: target.contact,
          destination: target.sendTo,
          from: `sip:${callerId.number}@${host}`,
          fromDisplayName: callerId.name,
          to: `sip:${target.extension}@${host}`,
          headers,
          credentials: undefined,
        };
      }
      case 'trunk': {
        const trunk = this.opts.directory().trunk(target.attempt.trunk);
        if (!trunk) return `no trunk named ${target.attempt.trunk}`;
        if (trunk.max_calls > 0 && (this.trunkCalls.get(trunk.name) ?? 0) >= trunk.max_calls) {
          return `trunk ${trunk.name} is at its limit of ${trunk.max_calls} calls`;
        }
        const number = callerId.external || trunk.default_caller_id;
        const domain = trunk.domain || trunk.host;
        const credentials =
          trunk.password === undefined ? undefined : { username: trunk.auth_username ?? trunk.username ?? number, password: trunk.password };
        return {
          target: `sip:${target.attempt.number}@${trunk.host}:${trunk.port}${trunk.transport === 'tcp' ? ';transport=tcp' : ''}`,
          destination: { transport: trunk.transport, host: trunk.host, port: trunk.port },
          from: `sip:${trunk.username ?? number}@${domain}`,
          fromDisplayName: callerId.name,
          to: `sip:${target.attempt.number}@${domain}`,
          headers: [['P-Asserted-Identity', `${quoted(callerId.name)} <sip:${number}@${domain}>`]],
          credentials,
        };
      }
      case 'pbx':
        return `the PBX's own ${target.app} does not take originated calls in this server`;
    }
  }

  cancel(forkId: string): void {
    this.forks.get(forkId)?.call?.cancel();
  }

  ack(forkId: string, answerSdp: string): void {
    const fork = this.forks.get(forkId);
    if (!fork) return;
    fork.answer?.ack(answerSdp);
    // The answer holds the peer's offer: once ACKed, the session is all the fork needs.
    fork.answer = null;
  }

  discard(forkId: string): void {
    const fork = this.forks.get(forkId);
    if (!fork) return;
    const answer = fork.answer;
    if (answer) answer.ack(answer.sdp === undefined ? undefined : rejectSdp(answer.sdp, { host: this.opts.host }));
    fork.answer = null;
    this.hangUp(forkId, fork);
  }

  reinvite(forkId: string, offerSdp: string): void {
    const fork = this.forks.get(forkId);
    const session = fork?.session;
    if (!fork || !session) return;
    session.reinvite(offerSdp).then(
      (answer) => {
        fork.events.dialogChanged(snapshotDialog(session.dialog, fork.destination));
        if (answer === undefined) fork.events.reinviteFailed(488);
        else fork.events.reinviteAnswered(answer);
      },
      (err: unknown) => {
        if (!(err instanceof SipResponseError)) this.opts.logger.info({ err, forkId }, 're-INVITE failed without a response');
        fork.events.reinviteFailed(err instanceof SipResponseError ? err.status : 0);
      },
    );
  }

  bye(forkId: string): void {
    const fork = this.forks.get(forkId);
    if (fork) this.hangUp(forkId, fork);
  }

  relay(firstForkId: string, secondForkId: string): void {
    const first = this.forks.get(firstForkId);
    const second = this.forks.get(secondForkId);
    if (!first?.session || !second?.session) return;
    first.session.onReinvite = (offer) => this.relayed(firstForkId, offer, first, second);
    second.session.onReinvite = (offer) => this.relayed(secondForkId, offer, second, first);
  }

  /**
   * RFC 3725 §5: the offer in one party's re-INVITE goes to the other party in a re-INVITE of ours, and its
   * answer becomes our 200. Undefined (488) when the other party refuses the offer; a rejection otherwise: 491
   * when the other dialog has an INVITE of its own in progress (glare across the bridge: the sender retries after
   * its back-off), 500 for anything else.
   */
  private async relayed(forkId: string, offer: string | undefined, from: Fork, to: Fork): Promise<string | undefined> {
    const fromSession = from.session!;
    const toSession = to.session!;
    // The sender's re-INVITE may have refreshed its target (RFC 3261 §12.2.2).
    from.events.dialogChanged(snapshotDialog(fromSession.dialog, from.destination));
    // An offerless re-INVITE asks for our offer; the one we gave last still describes the other party.
    if (offer === undefined) return fromSession.localSdp;
    try {
      return await toSession.reinvite(offer);
    } catch (err) {
      if (err instanceof SipResponseError && err.status === 488) return undefined;
      this.opts.logger.info({ err, forkId }, 're-INVITE not relayed');
      throw err;
    } finally {
      to.events.dialogChanged(snapshotDialog(toSession.dialog, to.destination));
    }
  }

  async byeDialog(snapshot: DialogSnapshot): Promise<void> {
    const { request } = createInDialogRequest(restoreDialog(snapshot), { method: 'BYE' });
    await sendRequest(this.opts.layer, request, snapshot.peer);
  }

  /**
   * The INVITE a gone process sent is adopted as a transaction of ours and CANCELled (§9.1): the CANCEL copies its
   * Via, and the 487 that follows is ACKed by the transaction (§17.1.1.3) instead of being retransmitted at us
   * until the peer gives up. A 2xx that crossed the CANCEL is ACKed and its dialog ended with a BYE. Resolves with
   * the CANCEL's final response.
   */
  cancelInvite(invite: InviteSnapshot): Promise<void> {
    const request = createRequest({
      method: 'INVITE',
      uri: invite.uri,
      headers: [
        ['Via', invite.via],
        ...invite.routes.map((route): [string, string] => ['Route', route]),
        ['Max-Forwards', '70'],
        ['From', invite.from],
        ['To', invite.to],
        ['Call-ID', invite.callId],
        ['CSeq', `${invite.cseq} INVITE`],
      ],
    });
    const { layer, logger } = this.opts;
    return new Promise((resolve, reject) => {
      const tx = layer.adoptInvite(request, invite.peer, {
        onResponse: (res) => {
          if (res.status >= 200 && res.status < 300) this.endCrossed2xx(request, res, invite.peer);
        },
        onError: (err) => logger.info({ err, sipCallId: invite.callId }, 'INVITE cancelled after a restart got no final response'),
      });
      tx.cancel({
        onResponse: (res) => {
          if (res.status >= 200) resolve();
        },
        onError: reject,
      });
    });
  }

  /** §9.1: "the UAC ... MUST ... send an ACK ... followed by a BYE" for a 2xx that arrives after its CANCEL. */
  private endCrossed2xx(invite: SipRequest, res: SipResponse, peer: Endpoint): void {
    const { layer, logger } = this.opts;
    let dialog: DialogState;
    try {
      dialog = uacDialogState(invite, res);
    } catch (err) {
      logger.info({ err, sipCallId: invite.callId }, 'unusable 2xx to an INVITE cancelled after a restart');
      return;
    }
    layer.sendAck(createAckFor2xx(dialog, invite.cseq.seq, {}), peer);
    const { request } = createInDialogRequest(dialog, { method: 'BYE' });
    sendRequest(layer, request, peer).catch((err: unknown) => logger.info({ err, sipCallId: invite.callId }, 'BYE after a restart failed'));
  }

  /** BYE once answered, CANCEL while ringing; the fork is let go when that is done (promise callbacks: an async function costs more, every call). */
  private hangUp(forkId: string, fork: Fork): void {
    const session = fork.session;
    if (session) {
      session.bye().then(
        () => this.release(forkId, fork),
        (err: unknown) => {
          this.opts.logger.info({ err, forkId }, 'BYE failed');
          this.release(forkId, fork);
        },
      );
      return;
    }
    try {
      fork.call?.cancel();
    } catch (err) {
      this.opts.logger.info({ err, forkId }, 'BYE failed');
    }
    this.release(forkId, fork);
  }

  private release(forkId: string, fork: Fork): void {
    if (this.forks.get(forkId) !== fork) return;
    this.forks.delete(forkId);
    if (fork.trunk !== null) this.trunkCalls.set(fork.trunk, (this.trunkCalls.get(fork.trunk) ?? 1) - 1);
  }
}
