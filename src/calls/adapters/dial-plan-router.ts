/**
 * The Router port on the dial plan: planLeg decides where a leg may ring; here each 'phones' destination becomes
 * one fork per registered contact, so the machine can cancel the others when one answers.
 */
import type { Directory } from '../../directory/directory.ts';
import type { Location } from '../../directory/registrar/binding.ts';
import { planLeg } from '../../dialplan/plan-leg.ts';
import type { Destination } from '../../dialplan/route-plan.ts';
import type { IvrVariables, PlannedTarget, PlanResult, Router } from '../ports.ts';

export interface ContactLookup {
  hasContacts(accountId: string): boolean;
  lookup(accountId: string): readonly Location[];
}

function targets(destination: Destination, locations: ContactLookup): PlannedTarget[] {
  switch (destination.kind) {
    case 'phones':
      return locations.lookup(destination.accountId).map((l) => ({
        kind: 'phone',
        accountId: destination.accountId,
        extension: destination.extension,
        contact: l.contact,
        sendTo: { transport: l.sendTo.transport, host: l.sendTo.host, port: l.sendTo.port },
      }));
    case 'trunk':
      return [{ kind: 'trunk', attempts: destination.attempts }];
    case 'ivr':
    case 'voicemail':
      return [{ kind: 'pbx', app: destination.kind, accountId: destination.accountId, extension: destination.extension }];
  }
}

export function createDialPlanRouter(directory: () => Directory, locations: ContactLookup): Router {
  return {
    plan(input): PlanResult {
      const routed = planLeg({ ...input, directory: directory(), locations });
      if (!routed.ok) return routed;
      return {
        ok: true,
        leg: {
          dialed: routed.plan.dialed,
          steps: routed.plan.steps.map((step) => ({
            ringSeconds: step.ringSeconds,
            targets: step.destinations.flatMap((d) => targets(d, locations)),
          })),
        },
      };
    },
  };
}

/** The IvrVariables port on the directory: the first IVR defining the name gives the id. */
export function directoryIvrVariables(directory: () => Directory): IvrVariables {
  return { lookup: (name) => directory().ivrVariable(name)?.id };
}
