/**
 * Reads the one YAML configuration file and validates it into the frozen `Config` of schema.ts. Omitted fields get
 * defaults; unknown keys are errors (they are nearly always typos); top-level keys starting `x-` are ignored so the
 * file can hold YAML anchors. Every problem is collected, each with the path of the bad key, before failing.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import {
  ACCOUNT_TYPES,
  type Account,
  type ApiConfig,
  type CallApiRewrite,
  type CallRuleStep,
  type CallsConfig,
  type Config,
  IVR_TONES,
  type IvrStep,
  type IvrVariable,
  type MediaConfig,
  type OutgoingCallRule,
  type SipConfig,
  type SipListen,
  type Trunk,
} from './schema.ts';

export interface ConfigProblem {
  /** `accounts[3].type`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  ${p.path || '(document)'}: ${p.message}`).join('\n')}`);
  }
}

type Obj = Record<string, unknown>;

const DIGITS = /^[0-9]+$/;
const DIALABLE = /^[0-9*#]+$/;

/** Collects problems while reading one document; every reader returns a usable default so reading continues. */
class Reader {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** The mapping at `path` restricted to `keys`; null (with a problem) when it is not a mapping. */
  object(value: unknown, path: string, keys: readonly string[]): Obj | null {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be a mapping');
      return null;
    }
    const obj = value as Obj;
    for (const key of Object.keys(obj)) {
      if (!keys.includes(key)) this.problem(join(path, key), `unknown key (expected one of ${keys.join(', ')})`);
    }
    return obj;
  }

  string(obj: Obj, path: string, key: string, fallback?: string, pattern?: { re: RegExp; what: string }): string {
    const v = obj[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (fallback === undefined) this.problem(p, 'is required');
      return fallback ?? '';
    }
    // YAML reads 101 as a number; an operator means the digits.
    const s = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
    if (typeof s !== 'string') {
      this.problem(p, 'must be a string');
      return fallback ?? '';
    }
    if (pattern !== undefined && !pattern.re.test(s)) this.problem(p, `must be ${pattern.what}`);
    return s;
  }

  optionalString(obj: Obj, path: string, key: string): string | undefined {
    if (obj[key] === undefined || obj[key] === null) return undefined;
    const s = this.string(obj, path, key, '');
    if (s === '') {
      this.problem(join(path, key), 'must not be empty (leave it out instead)');
      return undefined;
    }
    return s;
  }

  int(obj: Obj, path: string, key: string, fallback: number | undefined, min: number, max: number): number {
    const v = obj[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (fallback === undefined) this.problem(p, 'is required');
      return fallback ?? min;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(p, `must be an integer from ${min} to ${max}`);
      return fallback ?? min;
    }
    return v;
  }

  bool(obj: Obj, path: string, key: string, fallback: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.problem(join(path, key), 'must be true or false');
      return fallback;
    }
    return v;
  }

  oneOf<T extends string>(obj: Obj, path: string, key: string, allowed: readonly T[], fallback?: T): T {
    const v = obj[key];
    const p = join(path, key);
    if (v === undefined || v === null) {
      if (fallback === undefined) this.problem(p, `is required (one of ${allowed.join(', ')})`);
      return fallback ?? (allowed[0] as T);
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.problem(p, `must be one of ${allowed.join(', ')}`);
      return fallback ?? (allowed[0] as T);
    }
    return v as T;
  }

  list<T>(obj: Obj, path: string, key: string, item: (value: unknown, path: string) => T | null): T[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    const p = join(path, key);
    if (!Array.isArray(v)) {
      this.problem(p, 'must be a list');
      return [];
    }
    const out: T[] = [];
    v.forEach((value, i) => {
      const r = item(value, `${p}[${i}]`);
      if (r !== null) out.push(r);
    });
    return out;
  }

  stringList(obj: Obj, path: string, key: string, pattern?: { re: RegExp; what: string }): string[] {
    return this.list(obj, path, key, (value, p) => {
      const s = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
      if (typeof s !== 'string') {
        this.problem(p, 'must be a string');
        return null;
      }
      if (pattern !== undefined && !pattern.re.test(s)) this.problem(p, `must be ${pattern.what}`);
      return s;
    });
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

const digits = { re: DIGITS, what: 'digits only' };
const dialable = { re: DIALABLE, what: 'digits, * or # only' };
const digitsOrEmpty = { re: /^[0-9]*$/, what: 'digits only' };

function readApi(r: Reader, value: unknown): ApiConfig {
  const path = 'api';
  const o = r.object(value, path, ['https', 'http', 'max_body_bytes', 'admin', 'auth']) ?? {};
  let https: ApiConfig['https'] = { host: '0.0.0.0', port: 8443 };
  if (o.https === null) https = null;
  else if (o.https !== undefined) {
    const h = r.object(o.https, 'api.https', ['host', 'port', 'cert', 'key']) ?? {};
    const cert = r.optionalString(h, 'api.https', 'cert');
    const key = r.optionalString(h, 'api.https', 'key');
    if ((cert === undefined) !== (key === undefined)) r.problem('api.https', 'cert and key go together');
    https = {
      host: r.string(h, 'api.https', 'host', '0.0.0.0'),
      port: r.int(h, 'api.https', 'port', 8443, 0, 65535),
      ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
    };
  }
  let http: ApiConfig['http'] = null;
  if (o.http !== undefined && o.http !== null) {
    const h = r.object(o.http, 'api.http', ['host', 'port']) ?? {};
    http = { host: r.string(h, 'api.http', 'host', '127.0.0.1'), port: r.int(h, 'api.http', 'port', 8080, 0, 65535) };
  }
  if (https === null && http === null) r.problem(path, 'needs an https or an http listener');
  const a = r.object(o.admin ?? {}, 'api.admin', ['username', 'password']) ?? {};
  const password = r.optionalString(a, 'api.admin', 'password');
  const admin = {
    username: r.string(a, 'api.admin', 'username', 'admin'),
    ...(password === undefined ? {} : { password }),
  };
  const u = r.object(o.auth ?? {}, 'api.auth', ['realm', 'nonce_ttl_seconds', 'max_failures', 'window_seconds', 'lockout_seconds']) ?? {};
  return {
    https,
    http,
    max_body_bytes: r.int(o, path, 'max_body_bytes', 65536, 256, 16 * 1024 * 1024),
    admin,
    auth: {
      realm: r.string(u, 'api.auth', 'realm', 'originate'),
      nonce_ttl_seconds: r.int(u, 'api.auth', 'nonce_ttl_seconds', 300, 1, 86400),
      max_failures: r.int(u, 'api.auth', 'max_failures', 10, 1, 1_000_000),
      window_seconds: r.int(u, 'api.auth', 'window_seconds', 300, 1, 86400),
      lockout_seconds: r.int(u, 'api.auth', 'lockout_seconds', 600, 1, 86400 * 7),
    },
  };
}

function readSip(r: Reader, value: unknown): SipConfig {
  const path = 'sip';
  const o =
    r.object(value, path, [
      'listen', 'public_host', 'realm', 't1_ms', 't2_ms', 't4_ms', 'udp_receive_buffer_bytes',
      'tcp_idle_timeout_seconds', 'max_message_bytes', 'registrar',
    ]) ?? {};
  const listen: SipListen[] =
    o.listen === undefined
      ? [{ transport: 'udp', host: '0.0.0.0', port: 5060 }]
      : r.list(o, path, 'listen', (v, p) => {
          const l = r.object(v, p, ['transport', 'host', 'port']);
          if (l === null) return null;
          return {
            transport: r.oneOf(l, p, 'transport', ['udp', 'tcp'] as const),
            host: r.string(l, p, 'host', '0.0.0.0'),
            port: r.int(l, p, 'port', 5060, 0, 65535),
          };
        });
  const g = r.object(o.registrar ?? {}, 'sip.registrar', [
    'min_expires', 'max_expires', 'default_expires', 'max_failures', 'window_seconds', 'lockout_seconds',
  ]) ?? {};
  const rp = 'sip.registrar';
  const registrar = {
    min_expires: r.int(g, rp, 'min_expires', 60, 1, 86400),
    max_expires: r.int(g, rp, 'max_expires', 3600, 1, 86400 * 7),
    default_expires: r.int(g, rp, 'default_expires', 3600, 1, 86400 * 7),
    max_failures: r.int(g, rp, 'max_failures', 10, 1, 1_000_000),
    window_seconds: r.int(g, rp, 'window_seconds', 300, 1, 86400),
    lockout_seconds: r.int(g, rp, 'lockout_seconds', 600, 1, 86400 * 7),
  };
  if (registrar.min_expires > registrar.max_expires) r.problem(`${rp}.min_expires`, 'must not exceed max_expires');
  const t1 = r.int(o, path, 't1_ms', 500, 1, 60_000);
  const t2 = r.int(o, path, 't2_ms', 4000, 1, 600_000);
  if (t1 > t2) r.problem('sip.t1_ms', 'must not exceed t2_ms');
  return {
    listen,
    public_host: r.string(o, path, 'public_host', '127.0.0.1'),
    realm: r.string(o, path, 'realm', 'originate.local'),
    t1_ms: t1,
    t2_ms: t2,
    t4_ms: r.int(o, path, 't4_ms', 5000, 1, 600_000),
    udp_receive_buffer_bytes: r.int(o, path, 'udp_receive_buffer_bytes', 4 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    tcp_idle_timeout_seconds: r.int(o, path, 'tcp_idle_timeout_seconds', 300, 1, 86400),
    max_message_bytes: r.int(o, path, 'max_message_bytes', 65535, 1024, 16 * 1024 * 1024),
    registrar,
  };
}

function readMedia(r: Reader, value: unknown): MediaConfig {
  const path = 'media';
  const o = r.object(value, path, ['rtp_host', 'rtp_port_min', 'rtp_port_max']) ?? {};
  const min = r.int(o, path, 'rtp_port_min', 20000, 1024, 65534);
  const max = r.int(o, path, 'rtp_port_max', 29999, 1025, 65535);
  if (min >= max) r.problem('media.rtp_port_min', 'must be below rtp_port_max');
  return { rtp_host: r.string(o, path, 'rtp_host', '127.0.0.1'), rtp_port_min: min, rtp_port_max: max };
}

function readCalls(r: Reader, value: unknown): CallsConfig {
  const o = r.object(value, 'calls', ['max_ring_seconds', 'max_call_seconds']) ?? {};
  return {
    max_ring_seconds: r.int(o, 'calls', 'max_ring_seconds', 120, 1, 3600),
    max_call_seconds: r.int(o, 'calls', 'max_call_seconds', 0, 0, 7 * 86400),
  };
}

function readRewrite(r: Reader, v: unknown, p: string): CallApiRewrite | null {
  const o = r.object(v, p, ['lengths', 'begins_with', 'trim', 'prepend']);
  if (o === null) return null;
  return {
    lengths: r.list(o, p, 'lengths', (n, np) => {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64) {
        r.problem(np, 'must be an integer from 1 to 64');
        return null;
      }
      return n;
    }),
    begins_with: r.string(o, p, 'begins_with', '', { re: /^[0-9*#]*$/, what: 'digits, * or # only' }),
    trim: r.int(o, p, 'trim', 0, 0, 64),
    prepend: r.string(o, p, 'prepend', '', { re: /^[0-9*#]*$/, what: 'digits, * or # only' }),
  };
}

function readCallRule(r: Reader, v: unknown, p: string): CallRuleStep | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    r.problem(p, 'must be a mapping');
    return null;
  }
  const type = r.oneOf(v as Obj, p, 'type', ['ring_phones', 'cascade', 'forward', 'voicemail'] as const);
  switch (type) {
    case 'ring_phones': {
      const o = r.object(v, p, ['type', 'ring_seconds']) ?? {};
      return { type, ring_seconds: r.int(o, p, 'ring_seconds', 20, 1, 3600) };
    }
    case 'cascade': {
      const o = r.object(v, p, ['type', 'numbers', 'ring_seconds']) ?? {};
      const numbers = r.stringList(o, p, 'numbers', dialable);
      if (numbers.length === 0) r.problem(join(p, 'numbers'), 'must list at least one number');
      return { type, numbers, ring_seconds: r.int(o, p, 'ring_seconds', 20, 1, 3600) };
    }
    case 'forward': {
      const o = r.object(v, p, ['type', 'number']) ?? {};
      return { type, number: r.string(o, p, 'number', undefined, dialable) };
    }
    case 'voicemail':
      r.object(v, p, ['type']);
      return { type };
  }
}

function readIvrVariable(r: Reader, v: unknown, p: string): IvrVariable | null {
  const o = r.object(v, p, ['id', 'name', 'default_value']);
  if (o === null) return null;
  return {
    id: r.int(o, p, 'id', undefined, 1, 2 ** 31 - 1),
    name: r.string(o, p, 'name', undefined, { re: /^[A-Za-z_][A-Za-z0-9_]*$/, what: 'a variable name (letters, digits, _)' }),
    default_value: r.string(o, p, 'default_value', ''),
  };
}

const VARIABLE_NAME = { re: /^[A-Za-z_][A-Za-z0-9_]*$/, what: 'a variable name (letters, digits, _)' };
const LABEL = { re: /^[A-Za-z0-9_-]+$/, what: 'a label (letters, digits, _, -)' };

function readIvrStep(r: Reader, v: unknown, p: string): IvrStep {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    r.problem(p, 'must be a mapping');
    return { type: 'hangup' };
  }
  const types = ['play', 'say_digits', 'collect', 'menu', 'goto', 'hangup'] as const;
  const type = r.oneOf(v as Obj, p, 'type', types);
  // An unknown type has no keys to check: one problem is enough. The placeholder keeps later steps' indexes (and
  // so the paths the label check reports) those of the file; the config is rejected anyway.
  if (!(types as readonly unknown[]).includes((v as Obj).type)) return { type: 'hangup' };
  const keys = (more: readonly string[]): Obj => r.object(v, p, ['type', 'label', ...more]) ?? {};
  const withLabel = (o: Obj): { label?: string } => {
    const label = r.optionalString(o, p, 'label');
    if (label !== undefined && !LABEL.re.test(label)) r.problem(join(p, 'label'), `must be ${LABEL.what}`);
    return label === undefined ? {} : { label };
  };
  switch (type) {
    case 'play': {
      const o = keys(['prompt']);
      const prompt = r.string(o, p, 'prompt');
      if (!(IVR_TONES as readonly string[]).includes(prompt) && !prompt.toLowerCase().endsWith('.wav')) {
        r.problem(join(p, 'prompt'), `must be a .wav file or one of ${IVR_TONES.join(', ')}`);
      }
      return { ...withLabel(o), type, prompt };
    }
    case 'say_digits': {
      const o = keys(['value', 'prompts']);
      const prompts = r.optionalString(o, p, 'prompts');
      return { ...withLabel(o), type, value: r.string(o, p, 'value'), ...(prompts === undefined ? {} : { prompts }) };
    }
    case 'collect': {
      const o = keys(['variable', 'max_digits', 'terminator', 'timeout_seconds']);
      return {
        ...withLabel(o),
        type,
        variable: r.string(o, p, 'variable', undefined, VARIABLE_NAME),
        max_digits: r.int(o, p, 'max_digits', 1, 1, 64),
        terminator: r.string(o, p, 'terminator', '#', { re: /^[0-9*#]?$/, what: 'one of 0-9, * or #, or empty' }),
        timeout_seconds: r.int(o, p, 'timeout_seconds', 5, 1, 3600),
      };
    }
    case 'menu': {
      const o = keys(['variable', 'choices', 'otherwise']);
      const cp = join(p, 'choices');
      const c = r.object(o.choices ?? {}, cp, Object.keys(o.choices ?? {})) ?? {};
      const choices: Record<string, string> = {};
      for (const key of Object.keys(c)) choices[key] = r.string(c, cp, key, undefined, LABEL);
      const otherwise = r.optionalString(o, p, 'otherwise');
      return {
        ...withLabel(o),
        type,
        variable: r.string(o, p, 'variable', undefined, VARIABLE_NAME),
        choices,
        ...(otherwise === undefined ? {} : { otherwise }),
      };
    }
    case 'goto': {
      const o = keys(['to']);
      return { ...withLabel(o), type, to: r.string(o, p, 'to', undefined, LABEL) };
    }
    case 'hangup':
      return { ...withLabel(keys([])), type };
  }
}

/** Every label a goto or menu names must exist, once. */
function checkIvrLabels(r: Reader, steps: readonly IvrStep[], p: string): void {
  const labels = new Set<string>();
  steps.forEach((step, i) => {
    if (step.label === undefined) return;
    if (labels.has(step.label)) r.problem(`${p}[${i}].label`, `duplicates label ${step.label}`);
    labels.add(step.label);
  });
  steps.forEach((step, i) => {
    const targets: Array<[string, string]> =
      step.type === 'goto'
        ? [['to', step.to]]
        : step.type === 'menu'
          ? [
              ...Object.entries(step.choices).map(([k, l]): [string, string] => [`choices.${k}`, l]),
              ...(step.otherwise === undefined ? [] : [['otherwise', step.otherwise] as [string, string]]),
            ]
          : [];
    for (const [key, label] of targets) {
      if (!labels.has(label)) r.problem(`${p}[${i}].${key}`, `no step labelled ${label}`);
    }
  });
}

const ACCOUNT_KEYS = [
  'account_id', 'extension', 'type', 'display_name', 'sip_password', 'api_password', 'caller_id',
  'call_api_settings', 'outgoing_rules_allow', 'outgoing_rules_deny', 'call_rules', 'ivr_variables', 'ivr_steps',
  'voicemail_max_seconds',
];

function readAccount(r: Reader, v: unknown, p: string): Account | null {
  const o = r.object(v, p, ACCOUNT_KEYS);
  if (o === null) return null;
  const type = r.oneOf(o, p, 'type', ACCOUNT_TYPES);
  const display_name = r.string(o, p, 'display_name', '');
  const cid = r.object(o.caller_id ?? {}, join(p, 'caller_id'), ['name', 'number']) ?? {};
  const cas = r.object(o.call_api_settings ?? {}, join(p, 'call_api_settings'), ['rewrites']) ?? {};
  const sip_password = r.optionalString(o, p, 'sip_password');
  const api_password = r.optionalString(o, p, 'api_password');
  const ivr_variables = r.list(o, p, 'ivr_variables', (iv, ip) => readIvrVariable(r, iv, ip));
  if (type !== 'ivr' && ivr_variables.length > 0) r.problem(join(p, 'ivr_variables'), 'only an ivr account defines variables');
  const ivr_steps = o.ivr_steps === undefined || o.ivr_steps === null ? undefined : r.list(o, p, 'ivr_steps', (x, xp) => readIvrStep(r, x, xp));
  if (ivr_steps !== undefined) {
    if (type !== 'ivr') r.problem(join(p, 'ivr_steps'), 'only an ivr account has steps');
    checkIvrLabels(r, ivr_steps, join(p, 'ivr_steps'));
  }
  const voicemail_max_seconds = o.voicemail_max_seconds === undefined ? undefined : r.int(o, p, 'voicemail_max_seconds', undefined, 1, 3600);
  return {
    account_id: r.string(o, p, 'account_id', undefined, digits),
    extension: r.string(o, p, 'extension', undefined, dialable),
    type,
    display_name,
    ...(sip_password === undefined ? {} : { sip_password }),
    ...(api_password === undefined ? {} : { api_password }),
    caller_id: {
      name: r.string(cid, join(p, 'caller_id'), 'name', display_name),
      number: r.string(cid, join(p, 'caller_id'), 'number', '', digitsOrEmpty),
    },
    call_api_settings: { rewrites: r.list(cas, join(p, 'call_api_settings'), 'rewrites', (x, xp) => readRewrite(r, x, xp)) },
    outgoing_rules_allow: r.stringList(o, p, 'outgoing_rules_allow'),
    outgoing_rules_deny: r.stringList(o, p, 'outgoing_rules_deny'),
    call_rules: r.list(o, p, 'call_rules', (x, xp) => readCallRule(r, x, xp)),
    ivr_variables,
    ...(ivr_steps === undefined ? {} : { ivr_steps }),
    ...(voicemail_max_seconds === undefined ? {} : { voicemail_max_seconds }),
  };
}

function readTrunk(r: Reader, v: unknown, p: string): Trunk | null {
  const o = r.object(v, p, [
    'name', 'host', 'port', 'transport', 'username', 'password', 'auth_username', 'register', 'register_expires',
    'domain', 'default_caller_id', 'max_calls',
  ]);
  if (o === null) return null;
  const host = r.string(o, p, 'host');
  const username = r.optionalString(o, p, 'username');
  const password = r.optionalString(o, p, 'password');
  const auth_username = r.optionalString(o, p, 'auth_username');
  const register = r.bool(o, p, 'register', false);
  if (register && username === undefined) r.problem(join(p, 'username'), 'is required when register is true');
  return {
    name: r.string(o, p, 'name'),
    host,
    port: r.int(o, p, 'port', 5060, 1, 65535),
    transport: r.oneOf(o, p, 'transport', ['udp', 'tcp'] as const, 'udp'),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(auth_username === undefined ? {} : { auth_username }),
    register,
    register_expires: r.int(o, p, 'register_expires', 3600, 60, 86400),
    domain: r.string(o, p, 'domain', host),
    default_caller_id: r.string(o, p, 'default_caller_id', '', digitsOrEmpty),
    max_calls: r.int(o, p, 'max_calls', 0, 0, 1_000_000),
  };
}

function readRule(r: Reader, v: unknown, p: string): OutgoingCallRule | null {
  const o = r.object(v, p, [
    'name', 'pattern_begin', 'pattern_min', 'pattern_max', 'pattern_trim', 'pattern_prepend', 'trunk', 'is_final',
  ]);
  if (o === null) return null;
  const min = r.int(o, p, 'pattern_min', 1, 1, 64);
  const max = r.int(o, p, 'pattern_max', 32, 1, 64);
  if (min > max) r.problem(join(p, 'pattern_min'), 'must not exceed pattern_max');
  const trim = r.int(o, p, 'pattern_trim', 0, 0, 64);
  if (trim > min) r.problem(join(p, 'pattern_trim'), 'must not exceed pattern_min');
  return {
    name: r.string(o, p, 'name'),
    pattern_begin: r.string(o, p, 'pattern_begin', '', { re: /^[0-9*#]*$/, what: 'digits, * or # only' }),
    pattern_min: min,
    pattern_max: max,
    pattern_trim: trim,
    pattern_prepend: r.string(o, p, 'pattern_prepend', '', { re: /^[0-9*#]*$/, what: 'digits, * or # only' }),
    trunk: r.string(o, p, 'trunk'),
    is_final: r.bool(o, p, 'is_final', true),
  };
}

function unique<T>(r: Reader, items: readonly T[], listPath: string, key: string, pick: (t: T) => string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const v = pick(item);
    const first = seen.get(v);
    if (first !== undefined) r.problem(`${listPath}[${i}].${key}`, `duplicates ${listPath}[${first}].${key} (${v})`);
    else seen.set(v, i);
  });
}

function crossCheck(r: Reader, c: Omit<Config, 'api' | 'sip' | 'media' | 'calls'>): void {
  unique(r, c.accounts, 'accounts', 'account_id', (a) => a.account_id);
  unique(r, c.accounts, 'accounts', 'extension', (a) => a.extension);
  unique(r, c.trunks, 'trunks', 'name', (t) => t.name);
  unique(r, c.outgoing_call_rules, 'outgoing_call_rules', 'name', (x) => x.name);
  const trunks = new Set(c.trunks.map((t) => t.name));
  c.outgoing_call_rules.forEach((rule, i) => {
    if (!trunks.has(rule.trunk)) r.problem(`outgoing_call_rules[${i}].trunk`, `no trunk named ${rule.trunk}`);
  });
  const rules = new Set(c.outgoing_call_rules.map((x) => x.name));
  const ivrIds = new Map<number, string>();
  c.accounts.forEach((a, i) => {
    for (const key of ['outgoing_rules_allow', 'outgoing_rules_deny'] as const) {
      a[key].forEach((name, j) => {
        if (!rules.has(name)) r.problem(`accounts[${i}].${key}[${j}]`, `no outgoing call rule named ${name}`);
      });
    }
    a.ivr_variables.forEach((v, j) => {
      const owner = ivrIds.get(v.id);
      if (owner !== undefined && owner !== a.account_id) {
        r.problem(`accounts[${i}].ivr_variables[${j}].id`, `IVR variable id ${v.id} is already used by account ${owner}`);
      }
      ivrIds.set(v.id, a.account_id);
    });
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const TOP_KEYS = ['api', 'sip', 'media', 'calls', 'accounts', 'trunks', 'outgoing_call_rules'];

/** Validates YAML text; `sourceName` names it in errors. Throws ConfigError listing every problem. */
export function parseConfig(yamlText: string, sourceName: string): Config {
  const doc = parseDocument(yamlText, { merge: true, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(sourceName, doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message}` })));
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const r = new Reader();
  const top = r.object(
    raw,
    '',
    // x- keys are accepted here and dropped below.
    [...TOP_KEYS, ...Object.keys(raw !== null && typeof raw === 'object' ? raw : {}).filter((k) => k.startsWith('x-'))],
  );
  if (top === null) throw new ConfigError(sourceName, r.problems);
  const lists = {
    accounts: r.list(top, '', 'accounts', (v, p) => readAccount(r, v, p)),
    trunks: r.list(top, '', 'trunks', (v, p) => readTrunk(r, v, p)),
    outgoing_call_rules: r.list(top, '', 'outgoing_call_rules', (v, p) => readRule(r, v, p)),
  };
  const config: Config = {
    api: readApi(r, top.api ?? {}),
    sip: readSip(r, top.sip ?? {}),
    media: readMedia(r, top.media ?? {}),
    calls: readCalls(r, top.calls ?? {}),
    ...lists,
  };
  crossCheck(r, lists);
  const clash = lists.accounts.findIndex((a) => a.extension === config.api.admin.username);
  if (clash >= 0) {
    // Extension users log in with their extension number: the admin's name must not be one.
    r.problem('api.admin.username', `is the extension of accounts[${clash}]; choose another name`);
  }
  if (r.problems.length > 0) throw new ConfigError(sourceName, r.problems);
  return deepFreeze(config);
}

/** Reads and validates the file at `path`. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, path);
}
