import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { account, directory, rule, trunk } from './fixtures.ts';

describe('Directory', () => {
  const dir = directory({
    realm: 'pbx.example',
    accounts: [
      account({ account_id: '1101', extension: '101' }),
      account({ account_id: '1800', extension: '800', type: 'ivr', ivr_variables: [{ id: 3, name: 'balance', default_value: '0' }, { id: 4, name: 'acct', default_value: '' }] }),
      account({ account_id: '1801', extension: '801', type: 'ivr', ivr_variables: [{ id: 9, name: 'balance', default_value: '7' }, { id: 5, name: 'lang', default_value: 'en' }] }),
    ],
    trunks: [trunk({ name: 'carrier', port: 5080 })],
    rules: [rule({ name: 'b', pattern_begin: '9', trunk: 'carrier' }), rule({ name: 'a', pattern_begin: '8', trunk: 'carrier' })],
  });

  it('finds accounts by account id and by extension', () => {
    assert.equal(dir.account('1101')?.extension, '101');
    assert.equal(dir.byExtension('101')?.account_id, '1101');
    assert.equal(dir.account('101'), undefined);
    assert.equal(dir.byExtension('1101'), undefined);
  });

  it('finds IVR variables by name across IVRs, the first IVR in config order winning', () => {
    assert.deepEqual(dir.ivrVariable('balance'), { id: 3, name: 'balance', defaultValue: '0', ivrAccountId: '1800' });
    assert.deepEqual(dir.ivrVariable('lang'), { id: 5, name: 'lang', defaultValue: 'en', ivrAccountId: '1801' });
    assert.equal(dir.ivrVariable('nope'), undefined);
  });

  it('finds trunks by name and keeps the rules in config order', () => {
    assert.equal(dir.trunk('carrier')?.port, 5080);
    assert.equal(dir.trunk('other'), undefined);
    assert.deepEqual(dir.outgoingRules.map((r) => r.name), ['b', 'a']);
    assert.equal(dir.realm, 'pbx.example');
  });
});
