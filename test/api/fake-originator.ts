/** An Originator that records what it was asked and answers as told: the API layer's unit boundary. */
import {
  OriginateFailedError,
  type LiveCall,
  type OriginateRequest,
  type OriginateResult,
  type Originator,
} from '../../src/calls/originator.ts';

export class FakeOriginator implements Originator {
  readonly requests: OriginateRequest[] = [];
  readonly hungUp: string[] = [];
  calls: LiveCall[] = [];
  /** 'fail': reject with OriginateFailedError; a function: compute the result. */
  behaviour: 'fail' | ((r: OriginateRequest) => OriginateResult) = (r) => ({
    callId: `call-${this.requests.length}`,
    dialedFirst: `9${r.dialFirst}`,
    dialedSecond: r.dialSecond,
    variables: r.variables.map((v) => (v.name === 'balance' ? { name: v.name, status: 'exists', id: 3 } : { name: v.name, status: 'does_not_exist' })),
  });

  async originate(request: OriginateRequest): Promise<OriginateResult> {
    this.requests.push(request);
    if (this.behaviour === 'fail') throw new OriginateFailedError('busy', 'dial_first answered 486');
    return this.behaviour(request);
  }

  listCalls(): readonly LiveCall[] {
    return this.calls;
  }

  async hangUp(callId: string): Promise<boolean> {
    this.hungUp.push(callId);
    return this.calls.some((c) => c.callId === callId);
  }
}
