/**
 * The base64 rule of artifact bodies (src/hub/base64.ts) accepts exactly what
 * the anchored expression it replaced accepted.
 */
import { randomBytes } from 'node:crypto';
import { isBase64, isBase64Run } from '../../src/hub/base64';

const RULE = /^[A-Za-z0-9+/]*={0,2}$/;

test('the same answers as /^[A-Za-z0-9+/]*={0,2}$/ (and a length multiple of 4 for whole bodies)', () => {
  const cases = [
    '',
    'QUJD',
    'QUI=',
    'QQ==',
    'QQ===',
    '=',
    '==',
    '===',
    'Q=Q=',
    'QQ=A',
    '=QQQ',
    'QUJD\n',
    'QU JD',
    'QUJD-_',
    'a+/9',
    'Zm9v\u00e9',
    'QQ==\u0000',
  ];
  const alphabet = 'AZaz09+/=-_ \n\u00e9';
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(1 + (i % 9));
    cases.push(Array.from(bytes, (b) => alphabet[b % alphabet.length]).join(''));
    cases.push(bytes.toString('base64'));
  }
  for (const text of cases) {
    expect([text, isBase64Run(text)]).toEqual([text, RULE.test(text)]);
    expect([text, isBase64(text)]).toEqual([text, RULE.test(text) && text.length % 4 === 0]);
  }
});
