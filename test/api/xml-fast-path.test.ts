/** The XML fast path must read exactly what fast-xml-parser reads, and hand it everything else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvelope, parseXmlGeneral, readSimpleXml } from '../../src/api/envelope.ts';

const CONTRACT = `<?xml version="1.0" encoding="UTF-8"?>
<request method="switchvox.call">
  <parameters>
    <dial_first>15551112222</dial_first>
    <dial_second>800</dial_second>
    <dial_as_account_id>1106</dial_as_account_id>
    <caller_id_name>David Podolsky</caller_id_name>
    <variables>
      <variable>balance=300</variable>
      <variable>acct=42</variable>
    </variables>
  </parameters>
</request>`;

const HANDLED = [
  CONTRACT,
  '<request method="m"/>',
  "<request method='m'><parameters/></request>",
  '<request method="m"><parameters></parameters></request>',
  '<request method="m" extra="1"><parameters><a x="1" y=\'2\'>v</a><b/><c></c></parameters></request>',
  '<request method="m"><parameters><a>  spaced text  </a><b>R&amp;D &lt;x&gt; &quot;q&quot; &apos;a&apos; &#65;&#x42;&#0;</b></parameters></request>',
  '<request method="m"><parameters><v><i>1</i><i>2</i><i>3</i></v><v><i>4</i></v></parameters></request>',
  '<request method="m"><parameters><a>text<b>child</b>more</a></parameters></request>',
  '<request method="m"><parameters><Dial-First.x>1</Dial-First.x></parameters></request>',
  '<request method="m"><parameters><a>1 > 0</a><b>ünïcödé ✓</b></parameters></request>',
  `<request method="m"><parameters>${'<d>'.repeat(15)}x${'</d>'.repeat(15)}</parameters></request>`,
  '<request method="m">stray</request>',
  '<request method="m"><parameters>text</parameters></request>',
  '<request method="m"><parameters><p>1</p></parameters><parameters><p>2</p></parameters></request>',
  '<request><parameters/></request>',
  '<request method=""/>',
  '<request method="m"><parameters><a>1</a ><ab>2</ab\n><abc>x&amp;</abc><v>t<i>1</i>&lt;u</v></parameters></request>',
];

test('the fast path handles the documents clients send and reads them as the general parser does', () => {
  for (const doc of HANDLED) {
    assert.notEqual(readSimpleXml(doc), null, `fast path declined: ${doc}`);
    assert.deepEqual(parseEnvelope(doc, 'xml'), parseXmlGeneral(doc), doc);
  }
});

const DECLINED = [
  '<request method="m"><parameters><__proto__>1</__proto__></parameters></request>',
  '<request method="m"><parameters><constructor>c</constructor></parameters></request>',
  '<request method="m"><parameters><toString>t</toString></parameters></request>',
  '<request method="m" valueOf="1"/>',
  CONTRACT.replaceAll('\n', '\r\n'),
  '<request method="m"><parameters><a>1\r2</a></parameters></request>',
  '<request method="m"><!-- c --><parameters/></request>',
  '<request method="m"><parameters><a><![CDATA[<b>]]></a></parameters></request>',
  '<request method="m"><?pi x?><parameters/></request>',
  '<request method="m"><parameters><ns:a>1</ns:a></parameters></request>',
  '<request method="a&amp;b"/>',
  '<request method=" m "/>',
  '<request method = "m"/>',
  '<request method="m" method="n"/>',
  '<request method="m"><parameters><a>&xxe;</a></parameters></request>',
  '<request method="m"><parameters><a>AT&T</a></parameters></request>',
  '<request method="m"><parameters><a>1</b></parameters></request>',
  '<request method="m"><parameters><a>1</ab></parameters></request>',
  '<request method="m"><parameters><ab>1</a></parameters></request>',
  '<request method="m"><parameters><a>x &amp</a></parameters></request>',
  '<request method="m"><parameters><v><i>1</i>R&D</v></parameters></request>',
  '<request method="m"><parameters>',
  '<request method="m"/><request method="n"/>',
  '<other method="m"/>',
  '<request method="m"/>trailing',
  '<request method=m/>',
  `<request method="m"><parameters>${'<d>'.repeat(40)}x${'</d>'.repeat(40)}</parameters></request>`,
];

test('anything else is handed to the general parser, whose answer stands', () => {
  for (const doc of DECLINED) {
    assert.equal(readSimpleXml(doc), null, `fast path should decline: ${doc}`);
    assert.deepEqual(parseEnvelope(doc, 'xml'), parseXmlGeneral(doc), doc);
  }
});

test('mutated documents: both paths agree on every one (seeded, 3000 single-edit variants)', () => {
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const alphabet = '<>/="\'&;!?# abcxyz-_.:\n';
  let handled = 0;
  for (let k = 0; k < 3000; k++) {
    const base = HANDLED[rand(HANDLED.length)] ?? CONTRACT;
    const at = rand(base.length);
    const op = rand(3);
    const ch = alphabet[rand(alphabet.length)] ?? '<';
    const doc = op === 0 ? base.slice(0, at) + base.slice(at + 1) : op === 1 ? base.slice(0, at) + ch + base.slice(at) : base.slice(0, at) + ch + base.slice(at + 1);
    if (readSimpleXml(doc) !== null) handled++;
    assert.deepEqual(parseEnvelope(doc, 'xml'), parseXmlGeneral(doc), JSON.stringify(doc));
  }
  assert.ok(handled > 500, `the fast path took only ${handled} of 3000`);
});
