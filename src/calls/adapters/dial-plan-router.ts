/**
 * The Router port on the dial plan: planLeg decides where a leg may ring; here each 'phones' destination becomes
 * one fork per registered contact, so the machine can cancel the others when one answers.
 */
import type { Directory } from '../../directory/directory.ts';
import type { Location } from '../../directory/registrar/binding.ts';
import { planLeg } from '../../dialplan/plan-leg.ts';
import type { Destination } from '../../dialplan/route-plan.ts';
import type { IvrVariables, PlannedStep, PlannedTarget, PlanResult, Router } from '../ports.ts';

export interface ContactLookup {
  hasContacts(accountId: string): boolean;
  lookup(accountId: string): readonly Location[];
}

/** Appends the forks a destination rings: plain loops, as flatMap and a closure per call cost more than the plan. */
function addTargets(targets: PlannedTarget[], destination: Destination, locations: ContactLookup): void {
  switch (destination.kind) {
    case 'phones':
      for (const l of locations.lookup(destination.accountId)) {
        targets.push({
          kind: 'phone',
          accountId: destination.accountId,
          extension: destination.extension,
          contact: l.contact,
          sendTo: { transport: l.sendTo.transport, host: l.sendTo.host, port: l.sendTo.port },
        });
      }
      return;
    case 'trunk':
      targets.push({ kind: 'trunk', attempts: destination.attempts });
      return;
    case 'ivr':
    case 'voicemail':
      targets.push({ kind: 'pbx', app: destination.kind, accountId: destination.accountId, extension: destination.extension });
      return;
  }
}

class DialPlanRouter implements Router {
  constructor(
    private readonly directory: () => Directory,
    private readonly locations: ContactLookup,
  ) {}

  plan(input: Parameters<Router['plan']>[0]): PlanResult {
    const locations = this.locations;
    const routed = planLeg({
      number: input.number,
      account: input.account,
      directory: this.directory(),
      locations,
      ignoreApiSettings: input.ignoreApiSettings,
      followCallRules: input.followCallRules,
    });
    if (!routed.ok) return routed;
    const steps: PlannedStep[] = [];
    for (const step of routed.plan.steps) {
      const targets: PlannedTarget[] = [];
      for (const destination of step.destinations) addTargets(targets, destination, locations);
      steps.push({ ringSeconds: step.ringSeconds, targets });
    }
    return { ok: true, leg: { dialed: routed.plan.dialed, steps } };
  }
}

export function createDialPlanRouter(directory: () => Directory, locations: ContactLookup): Router {
  return new DialPlanRouter(directory, locations);
}

/** The IvrVariables port on the directory: the first IVR defining the name gives the id. */
export function directoryIvrVariables(directory: () => Directory): IvrVariables {
  return { lookup: (name) => directory().ivrVariable(name)?.id };
}
