/**
 * The typed, frozen configuration every layer receives. `load-config.ts` is the only code that reads the YAML file
 * and the environment; it validates into this shape and reports a bad key by its path
 * (`accounts[3].type: must be one of sip, analog, virtual, ivr, queue, conference`).
 * Field names follow the YAML file (snake_case), so an operator reads the same words in both.
 */

/** Extension types. Only sip, analog and virtual may be dialed as; only sip and analog register devices. */
export const ACCOUNT_TYPES = ['sip', 'analog', 'virtual', 'ivr', 'queue', 'conference'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
export const DIAL_AS_TYPES: readonly AccountType[] = ['sip', 'analog', 'virtual'];
export const DEVICE_TYPES: readonly AccountType[] = ['sip', 'analog'];

export interface Config {
  readonly api: ApiConfig;
  readonly sip: SipConfig;
  readonly media: MediaConfig;
  readonly calls: CallsConfig;
  readonly accounts: readonly Account[];
  readonly trunks: readonly Trunk[];
  readonly outgoing_call_rules: readonly OutgoingCallRule[];
}

export interface ApiConfig {
  /** HTTPS listener; cert/key files, or a self-signed pair generated into the data folder on first start. */
  readonly https: { readonly host: string; readonly port: number; readonly cert?: string; readonly key?: string } | null;
  /** Optional plain-HTTP listener for local use. */
  readonly http: { readonly host: string; readonly port: number } | null;
  readonly max_body_bytes: number;
  readonly admin: { readonly username: string; readonly password?: string };
  readonly auth: {
    readonly realm: string;
    readonly nonce_ttl_seconds: number;
    /** Failed logins from one address within window_seconds before that address is locked out. */
    readonly max_failures: number;
    readonly window_seconds: number;
    readonly lockout_seconds: number;
  };
}

export interface SipListen {
  readonly transport: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

export interface SipConfig {
  readonly listen: readonly SipListen[];
  /** Host written into Via/Contact/SDP when the bind address is a wildcard. */
  readonly public_host: string;
  readonly realm: string;
  readonly t1_ms: number;
  readonly t2_ms: number;
  readonly t4_ms: number;
  readonly udp_receive_buffer_bytes: number;
  readonly tcp_idle_timeout_seconds: number;
  readonly max_message_bytes: number;
  readonly registrar: {
    readonly min_expires: number;
    readonly max_expires: number;
    readonly default_expires: number;
    /** Failed REGISTERs from one source within window_seconds before it is throttled. */
    readonly max_failures: number;
    readonly window_seconds: number;
    readonly lockout_seconds: number;
  };
}

export interface MediaConfig {
  readonly rtp_host: string;
  readonly rtp_port_min: number;
  readonly rtp_port_max: number;
}

export interface CallsConfig {
  /** The longest any leg may ring, also when the API says timeout=0. */
  readonly max_ring_seconds: number;
  /** The longest a bridged call may last before the PBX ends it (0: no limit). */
  readonly max_call_seconds: number;
}

/** Call API settings: rewrite rules applied to dial_first and dial_second unless ignore_user_api_settings=1. */
export interface CallApiRewrite {
  /** The number's length must be one of these (empty: any length). */
  readonly lengths: readonly number[];
  /** The number must begin with this (empty: any). */
  readonly begins_with: string;
  /** Digits removed from the front, then `prepend` added. */
  readonly trim: number;
  readonly prepend: string;
}

/** One step of an extension's call rules, tried in order when a call reaches the extension. */
export type CallRuleStep =
  | { readonly type: 'ring_phones'; readonly ring_seconds: number }
  | { readonly type: 'cascade'; readonly numbers: readonly string[]; readonly ring_seconds: number }
  | { readonly type: 'forward'; readonly number: string }
  | { readonly type: 'voicemail' };

export interface IvrVariable {
  readonly id: number;
  readonly name: string;
  readonly default_value: string;
}

/** Built-in sounds an IVR `play` step may name instead of a WAV file. */
export const IVR_TONES = ['beep', 'ringback', 'busy', 'reorder'] as const;
export type IvrToneName = (typeof IVR_TONES)[number];

/**
 * One step of an IVR script, run in order from the first; `label` names a step for `goto` and `menu`. Values may
 * hold `${name}`: the call's variable of that name (from the API), else the IVR variable's default_value.
 */
export type IvrStep = { readonly label?: string } & (
  /** A WAV file (8 kHz mono, PCM16 or G.711) or a built-in tone. */
  | { readonly type: 'play'; readonly prompt: string }
  /** Each digit spoken from `prompts`/<digit>.wav when given, else sent as in-band DTMF tones. */
  | { readonly type: 'say_digits'; readonly value: string; readonly prompts?: string }
  /** DTMF (RFC 4733 or in-band) into a variable: up to max_digits, or until the terminator, or timeout_seconds. */
  | {
      readonly type: 'collect';
      readonly variable: string;
      readonly max_digits: number;
      readonly terminator: string;
      readonly timeout_seconds: number;
    }
  /** Jumps to the label chosen by the variable's value; `otherwise` when no choice matches (else the next step). */
  | {
      readonly type: 'menu';
      readonly variable: string;
      readonly choices: Readonly<Record<string, string>>;
      readonly otherwise?: string;
    }
  | { readonly type: 'goto'; readonly to: string }
  | { readonly type: 'hangup' }
);

export interface Account {
  /** Digits only; what dial_as_account_id names. */
  readonly account_id: string;
  readonly extension: string;
  readonly type: AccountType;
  readonly display_name: string;
  /** Digest password of the extension's devices (sip, analog); generated on first start when absent. */
  readonly sip_password?: string;
  /** Password of the extension user for the API; generated on first start when absent. */
  readonly api_password?: string;
  /** Caller ID presented on calls this account places to the outside. */
  readonly caller_id: { readonly name: string; readonly number: string };
  readonly call_api_settings: { readonly rewrites: readonly CallApiRewrite[] };
  /** Names of outgoing call rules this account may use (empty: all), and those it may not. */
  readonly outgoing_rules_allow: readonly string[];
  readonly outgoing_rules_deny: readonly string[];
  /** Empty means: ring the registered phones for calls.max_ring_seconds. */
  readonly call_rules: readonly CallRuleStep[];
  /** For type ivr: the variables it defines. */
  readonly ivr_variables: readonly IvrVariable[];
  /** For type ivr: its script; absent, the IVR says each variable's value and hangs up. */
  readonly ivr_steps?: readonly IvrStep[];
  /** The longest voicemail message this extension takes (default 120 s). */
  readonly voicemail_max_seconds?: number;
}

export interface Trunk {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly username?: string;
  readonly password?: string;
  /** Digest user name when it differs from the From user. */
  readonly auth_username?: string;
  readonly register: boolean;
  readonly register_expires: number;
  /** Domain written in From/To toward the trunk (default: host). */
  readonly domain: string;
  /** Caller ID used toward this trunk when the account has none. */
  readonly default_caller_id: string;
  /** Concurrent calls allowed through this trunk (0: no limit). */
  readonly max_calls: number;
}

export interface OutgoingCallRule {
  readonly name: string;
  readonly pattern_begin: string;
  readonly pattern_min: number;
  readonly pattern_max: number;
  readonly pattern_trim: number;
  readonly pattern_prepend: string;
  readonly trunk: string;
  readonly is_final: boolean;
}
