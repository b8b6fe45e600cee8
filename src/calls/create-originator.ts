/**
 * Builds the origination engine from the server's parts: what app.ts calls. Wires ports to adapters; no logic.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { CallsConfig } from '../config/schema.ts';
import type { Directory } from '../directory/directory.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import { CallRecordStore } from '../store/call-record-store.ts';
import { createDialPlanRouter, directoryIvrVariables, type ContactLookup } from './adapters/dial-plan-router.ts';
import { MediaRingback } from './adapters/media-ringback.ts';
import { PbxAppSignalling } from './adapters/pbx-app-signalling.ts';
import { VoicemailStore } from '../store/voicemail-store.ts';
import { OriginationRuntime } from './origination-runtime.ts';
import { SipLegSignalling, type InviteSender } from './adapters/sip-leg-signalling.ts';
import type { TransactionLayer } from '../sip/transaction/transaction-layer.ts';
import type { Clock, LegSignalling, TimerHandle } from './ports.ts';

export interface OriginatorDeps {
  readonly calls: CallsConfig;
  /** The current directory snapshot (DirectoryHolder.current). */
  readonly directory: () => Directory;
  /** The registrar's location service. */
  readonly locations: ContactLookup;
  readonly media: MediaEngine;
  readonly db: Database;
  /** The SIP user agent (src/sip/ua UserAgent): INVITEs go out through it, BYEs after a restart through its layer. */
  readonly ua: InviteSender & { readonly layer: TransactionLayer };
  /** Host of our From URIs toward phones (config.sip.public_host). */
  readonly publicHost: string;
  readonly logger: Logger;
  /** The server's data folder, where voicemail messages are recorded; without it voicemail targets fail. */
  readonly dataDir?: string;
  /** Replaces the SIP adapter (tests). */
  readonly signalling?: LegSignalling;
  readonly clock?: Clock;
}

export interface OriginationEngine {
  /** What the API calls: originate, listCalls, hangUp. */
  readonly originator: OriginationRuntime;
  readonly records: CallRecordStore;
  /** Closes calls a previous process left open (reason 'server_restart'); run once at start-up. */
  recover(): Promise<number>;
  /**
   * Hangs up every live call, waits for the PBX apps to stop (a voicemail being recorded keeps its message),
   * writes the records out and closes the idle ringback sessions.
   */
  close(): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fire) => {
    const t = setTimeout(fire, ms);
    // A ringing call never keeps a stopping process alive: shutdown hangs calls up explicitly.
    t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimer: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

export function createOriginator(deps: OriginatorDeps): OriginationEngine {
  const records = new CallRecordStore(deps.db);
  const ringback = new MediaRingback(deps.media);
  // IVR and voicemail targets are answered by the PBX itself; every other fork goes out over SIP.
  const signalling = new PbxAppSignalling(
    deps.signalling ??
      new SipLegSignalling({ ua: deps.ua, layer: deps.ua.layer, directory: deps.directory, host: deps.publicHost, logger: deps.logger.child({ component: 'calls-sip' }) }),
    { media: deps.media, directory: deps.directory, ...(deps.dataDir === undefined ? {} : { dataDir: deps.dataDir }), voicemail: new VoicemailStore(deps.db), logger: deps.logger.child({ component: 'pbx-apps' }) },
  );
  const originator = new OriginationRuntime({
    signalling,
    ringback,
    router: createDialPlanRouter(deps.directory, deps.locations),
    records,
    ivrVariables: directoryIvrVariables(deps.directory),
    clock: deps.clock ?? systemClock,
    calls: deps.calls,
    logger: deps.logger.child({ component: 'calls' }),
  });
  return {
    originator,
    records,
    recover: () => originator.recover('server_restart'),
    close: async () => {
      originator.hangUpAll('server_shutdown');
      // A voicemail cut short by the shutdown is still a message: its file is closed and its row written before
      // the store goes (app.ts closes the database after the engine).
      await signalling.settled();
      records.flush();
      await ringback.close();
    },
  };
}
