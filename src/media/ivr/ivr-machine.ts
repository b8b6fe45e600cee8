/**
 * The IVR step interpreter: a synchronous state machine over the script of an IVR account. It never touches a
 * socket or a clock: inputs (prompt finished, digit heard, collect timer fired, caller gone) go in, the next state
 * and named effects (play these sounds, start or cancel the collect timer, hang up) come out; `ivr-runner.ts`
 * executes the effects on an RTP session.
 */
import type { IvrStep, IvrToneName, IvrVariable } from '../../config/schema.ts';

/** What one `play` effect sends, in order. */
export type IvrSound =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'tone'; readonly name: IvrToneName }
  /** An in-band DTMF tone pair and the pause after it. */
  | { readonly kind: 'dtmf'; readonly digit: string }
  | { readonly kind: 'silence'; readonly ms: number };

/**
 * ```
 *            start                 played / digit
 *   idle ─────────────┬──> playing <──────────┐
 *                     │       │  └────────────┘
 *                     │       v
 *                     ├──> collecting ── digit (not done) ──> collecting
 *                     │       │ done / timeout
 *                     v       v
 *                   ended <── hangup step, end of script, caller gone
 * ```
 * Non-waiting steps (menu, goto, a say_digits with nothing to say) run inside the transition that reached them.
 */
export type IvrPhase = 'idle' | 'playing' | 'collecting' | 'ended';

export interface IvrState {
  readonly phase: IvrPhase;
  /** Index of the next step to run. */
  readonly pc: number;
  readonly variables: Readonly<Record<string, string>>;
  /** Digits pressed while a prompt played: the next collect takes them first. */
  readonly typeahead: string;
  /** Digits of the collect in progress. */
  readonly collected: string;
  readonly endReason: string | null;
}

export type IvrInput =
  | { readonly type: 'start' }
  | { readonly type: 'played' }
  | { readonly type: 'digit'; readonly digit: string }
  | { readonly type: 'timeout' }
  /** The caller left (BYE): nothing more is sent. */
  | { readonly type: 'hangup' };

export type IvrEffect =
  | { readonly type: 'play'; readonly sounds: readonly IvrSound[] }
  | { readonly type: 'startTimer'; readonly ms: number }
  | { readonly type: 'cancelTimer' }
  | { readonly type: 'hangup'; readonly reason: string };

export interface IvrTransition {
  readonly state: IvrState;
  readonly effects: readonly IvrEffect[];
}

export class IllegalIvrTransitionError extends Error {
  override readonly name = 'IllegalIvrTransitionError';
  constructor(from: IvrPhase, to: IvrPhase, input: string) {
    super(`IVR cannot move from ${from} to ${to} on ${input}`);
  }
}

const ALLOWED: Readonly<Record<IvrPhase, readonly IvrPhase[]>> = {
  idle: ['idle', 'playing', 'collecting', 'ended'],
  playing: ['playing', 'collecting', 'ended'],
  collecting: ['playing', 'collecting', 'ended'],
  ended: ['ended'],
};

/** Steps run in one transition without waiting: a script that loops through gotos alone is stopped here. */
const MAX_STEPS_PER_INPUT = 1000;

/** Silence before in-band digits, so a listener's jitter buffer has settled when the first tone arrives. */
const DTMF_LEAD_IN_MS = 200;

const SAYABLE = /[0-9*#]/;

/**
 * The variables for one call: each IVR variable's default, overridden by the value the API sent for that name.
 * Names the IVR does not define are ignored (the API reported them does_not_exist).
 */
export function callVariables(
  defined: readonly IvrVariable[],
  fromApi: readonly { readonly name: string; readonly value: string }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of defined) out[v.name] = v.default_value;
  for (const v of fromApi) if (Object.hasOwn(out, v.name)) out[v.name] = v.value;
  return out;
}

/** The script of an IVR without steps: say each variable's value, then hang up. */
export function defaultIvrSteps(defined: readonly IvrVariable[]): IvrStep[] {
  return [...defined.map((v): IvrStep => ({ type: 'say_digits', value: `\${${v.name}}` })), { type: 'hangup' }];
}

/** `${name}` replaced by the variable's value (empty when unknown). */
export function substitute(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => variables[name] ?? '');
}

export function initialIvrState(variables: Readonly<Record<string, string>>): IvrState {
  return { phase: 'idle', pc: 0, variables, typeahead: '', collected: '', endReason: null };
}

interface Work {
  s: IvrState;
  readonly fx: IvrEffect[];
  readonly steps: readonly IvrStep[];
}

function end(w: Work, reason: string, hangUp: boolean): void {
  if (w.s.phase === 'collecting') w.fx.push({ type: 'cancelTimer' });
  w.s = { ...w.s, phase: 'ended', endReason: reason };
  if (hangUp) w.fx.push({ type: 'hangup', reason });
}

function jump(w: Work, label: string): boolean {
  const index = w.steps.findIndex((s) => s.label === label);
  if (index < 0) {
    end(w, `no step labelled ${label}`, true);
    return false;
  }
  w.s = { ...w.s, pc: index };
  return true;
}

function digitSounds(step: Extract<IvrStep, { type: 'say_digits' }>, value: string): IvrSound[] {
  const sounds: IvrSound[] = [];
  for (const ch of value) {
    if (!SAYABLE.test(ch)) continue;
    if (step.prompts === undefined) sounds.push({ kind: 'dtmf', digit: ch });
    else sounds.push({ kind: 'file', path: `${step.prompts.replace(/\/+$/, '')}/${ch === '*' ? 'star' : ch === '#' ? 'pound' : ch}.wav` });
  }
  if (sounds.length > 0 && step.prompts === undefined) sounds.unshift({ kind: 'silence', ms: DTMF_LEAD_IN_MS });
  return sounds;
}

/**
 * Feeds digits to the collect at `pc`; true when it is complete (max digits, or the terminator, which is not
 * kept). The rest of the digits stay as typeahead for a later collect.
 */
function collectDigits(w: Work, step: Extract<IvrStep, { type: 'collect' }>, digits: string): boolean {
  let collected = w.s.collected;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits[i] as string;
    if (step.terminator !== '' && digit === step.terminator) {
      finishCollect(w, step, collected, digits.slice(i + 1));
      return true;
    }
    collected += digit;
    if (collected.length >= step.max_digits) {
      finishCollect(w, step, collected, digits.slice(i + 1));
      return true;
    }
  }
  w.s = { ...w.s, collected, typeahead: '' };
  return false;
}

function finishCollect(w: Work, step: Extract<IvrStep, { type: 'collect' }>, value: string, rest: string): void {
  w.s = {
    ...w.s,
    variables: { ...w.s.variables, [step.variable]: value },
    collected: '',
    typeahead: rest,
    pc: w.s.pc + 1,
  };
}

/** Runs steps from pc until one waits (a prompt playing, digits awaited) or the call ends. */
function run(w: Work): void {
  for (let count = 0; count < MAX_STEPS_PER_INPUT; count++) {
    const step = w.steps[w.s.pc];
    if (step === undefined) {
      end(w, 'end_of_script', true);
      return;
    }
    switch (step.type) {
      case 'play':
        w.s = { ...w.s, phase: 'playing', pc: w.s.pc + 1 };
        w.fx.push({ type: 'play', sounds: [IVR_TONE_NAMES.has(step.prompt) ? { kind: 'tone', name: step.prompt as IvrToneName } : { kind: 'file', path: step.prompt }] });
        return;
      case 'say_digits': {
        const sounds = digitSounds(step, substitute(step.value, w.s.variables));
        w.s = { ...w.s, pc: w.s.pc + 1 };
        if (sounds.length === 0) continue;
        w.s = { ...w.s, phase: 'playing' };
        w.fx.push({ type: 'play', sounds });
        return;
      }
      case 'collect': {
        w.s = { ...w.s, collected: '' };
        if (collectDigits(w, step, w.s.typeahead)) continue;
        w.s = { ...w.s, phase: 'collecting' };
        w.fx.push({ type: 'startTimer', ms: step.timeout_seconds * 1000 });
        return;
      }
      case 'menu': {
        const label = step.choices[w.s.variables[step.variable] ?? ''] ?? step.otherwise;
        if (label === undefined) w.s = { ...w.s, pc: w.s.pc + 1 };
        else if (!jump(w, label)) return;
        continue;
      }
      case 'goto':
        if (!jump(w, step.to)) return;
        continue;
      case 'hangup':
        end(w, 'ivr_hangup', true);
        return;
    }
  }
  end(w, 'script_loops_without_waiting', true);
}

const IVR_TONE_NAMES: ReadonlySet<string> = new Set<IvrToneName>(['beep', 'ringback', 'busy', 'reorder']);

function apply(w: Work, input: IvrInput): void {
  const phase = w.s.phase;
  switch (input.type) {
    case 'start':
      if (phase === 'idle') run(w);
      return;
    case 'played':
      if (phase === 'playing') run(w);
      return;
    case 'digit':
      if (phase === 'playing') {
        w.s = { ...w.s, typeahead: w.s.typeahead + input.digit };
      } else if (phase === 'collecting') {
        const step = w.steps[w.s.pc];
        if (step?.type !== 'collect') return;
        if (collectDigits(w, step, input.digit)) {
          w.fx.push({ type: 'cancelTimer' });
          // A pass-through: run() always lands on a waiting step or the end.
          w.s = { ...w.s, phase: 'idle' };
          run(w);
        }
      }
      return;
    case 'timeout': {
      // The collect ends with what it has (possibly nothing): a menu after it takes its `otherwise`.
      const step = w.steps[w.s.pc];
      if (phase !== 'collecting' || step?.type !== 'collect') return;
      finishCollect(w, step, w.s.collected, '');
      w.s = { ...w.s, phase: 'idle' };
      run(w);
      return;
    }
    case 'hangup':
      if (phase !== 'ended') end(w, 'caller_hung_up', false);
      return;
  }
}

export function ivrTransition(steps: readonly IvrStep[], state: IvrState, input: IvrInput): IvrTransition {
  const w: Work = { s: state, fx: [], steps };
  apply(w, input);
  if (!ALLOWED[state.phase].includes(w.s.phase)) {
    throw new IllegalIvrTransitionError(state.phase, w.s.phase, input.type);
  }
  return { state: w.s, effects: w.fx };
}
