import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { DirectoryHolder } from '../../../src/directory/directory-holder.ts';
import { TrunkManager, type TrunkStatus } from '../../../src/directory/trunks/trunk-manager.ts';
import { uaRegisterPort } from '../../../src/directory/trunks/ua-register-port.ts';
import { TransportLayer } from '../../../src/sip/transport/transport-layer.ts';
import { UserAgent } from '../../../src/sip/ua/user-agent.ts';
import { directory, trunk } from '../fixtures.ts';
import { freeUdpPort } from '../support/free-port.ts';
import { runSipp } from '../support/sipp.ts';

const logger = pino({ level: 'silent' });

describe('trunk registration against a sipp registrar that verifies the credentials', () => {
  let transport: TransportLayer;
  let ua: UserAgent;

  beforeEach(async () => {
    transport = await TransportLayer.listen({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], publicHost: '127.0.0.1' });
    ua = new UserAgent({ transport, t1Ms: 100, t2Ms: 400, t4Ms: 500 });
  });

  afterEach(async () => {
    ua.close();
    await transport.close();
  });

  async function run(password: string) {
    const port = await freeUdpPort();
    const sipp = runSipp({ scenario: 'trunk/registrar-verifyauth.xml', localPort: port, timeoutSeconds: 10 });
    const holder = new DirectoryHolder(
      directory({
        trunks: [
          trunk({ name: 'carrier', port, domain: 'carrier.test', register: true, register_expires: 300, username: 'trunkuser', password }),
          trunk({ name: 'quiet', port: 9, register: false, max_calls: 2 }),
        ],
      }),
    );
    const statuses = new EventEmitter<{ status: [TrunkStatus] }>();
    const manager = new TrunkManager({ directory: holder, port: uaRegisterPort(ua), logger, onStatus: (s) => statuses.emit('status', s) });
    return { sipp, manager, statuses };
  }

  it('registers with the trunk credentials, refreshes before the granted expiry, and un-registers on stop', async () => {
    const { sipp, manager, statuses } = await run('trunk-secret');
    const first = once(statuses, 'status', { signal: AbortSignal.timeout(10_000) });
    manager.start();
    const [registered] = (await first) as [TrunkStatus];
    assert.equal(registered.state, 'registered', JSON.stringify(registered));
    assert.equal(registered.lastStatus, 200);
    // The 2-second grant is refreshed after one second; the refresh is granted 60.
    const [refreshed] = (await once(statuses, 'status', { signal: AbortSignal.timeout(10_000) })) as [TrunkStatus];
    assert.equal(refreshed.state, 'registered');
    assert.ok(refreshed.expiresAt !== null && refreshed.expiresAt - Date.now() > 50_000, JSON.stringify(refreshed));
    const quiet = manager.trunkStatus().find((s) => s.name === 'quiet');
    assert.deepEqual([quiet?.state, quiet?.maxCalls], ['not_registering', 2]);
    await manager.stop();
    const result = await sipp;
    assert.equal(result.code, 0, result.output);
  });

  it('reports a refused registration with the registrar answer and schedules a retry', async () => {
    const { sipp, manager, statuses } = await run('wrong-secret');
    const settled = once(statuses, 'status', { signal: AbortSignal.timeout(10_000) });
    manager.start();
    const [failed] = (await settled) as [TrunkStatus];
    assert.equal(failed.state, 'failed');
    assert.equal(failed.lastStatus, 403);
    assert.equal(failed.lastReason, 'Wrong credentials');
    assert.ok(failed.nextAttemptAt !== null && failed.nextAttemptAt > Date.now());
    await manager.stop();
    const result = await sipp;
    assert.equal(result.code, 0, result.output);
  });
});
