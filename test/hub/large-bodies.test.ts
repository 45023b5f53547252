/**
 * Large bodies prepared off the event loop (src/hub/large-bodies.ts): base64
 * decoded a slice at a time with the same acceptance rule as validation, the
 * digest computed on the thread pool and remembered for validation, the
 * caller's inputs left unchanged; and the Hub writes such a batch exactly as
 * it would have without preparation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Hub } from '../../src/hub/hub';
import {
  LARGE_BODY_BYTES,
  decodeBase64OffLoop,
  digestOffLoop,
  prepareLargeBodies,
} from '../../src/hub/large-bodies';
import type { ArtifactRecord } from '../../src/hub/model';
import { knownSha256, verifyRecord } from '../../src/hub/provenance';
import { parseTenantId } from '../../src/hub/tenant';
import { createMemoryStore } from '../../src/stores/memory/memory-store';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('decodes base64 of any length and padding across slices, like Buffer does', async () => {
  // 3 MiB of bytes is 4 MiB of base64: four slices.
  for (const size of [0, 1, 2, 3, 3 * 1024 * 1024, 3 * 1024 * 1024 + 1, 3 * 1024 * 1024 + 2]) {
    const bytes = randomBytes(size);
    const decoded = await decodeBase64OffLoop(bytes.toString('base64'));
    expect(decoded?.equals(bytes)).toBe(true);
  }
});

test('refuses what validation refuses: other characters, padding inside, a length not a multiple of 4', async () => {
  const good = randomBytes(3 * 1024 * 1024).toString('base64');
  expect(await decodeBase64OffLoop(`${good.slice(0, -4)}AB-_`)).toBeUndefined();
  expect(await decodeBase64OffLoop(`${good.slice(0, 100)}==${good.slice(102)}`)).toBeUndefined();
  expect(
    await decodeBase64OffLoop(`${good.slice(0, 2 * 1024 * 1024)}AA==${good.slice(0, 8)}`),
  ).toBeUndefined();
  expect(await decodeBase64OffLoop(good.slice(1))).toBeUndefined();
  expect(await decodeBase64OffLoop('A===')).toBeUndefined();
});

test('digests on the thread pool match SHA-256 and are remembered for validation', async () => {
  const bytes = randomBytes(LARGE_BODY_BYTES + 5);
  expect(knownSha256(bytes)).toBeUndefined();
  expect(await digestOffLoop(bytes)).toBe(sha(bytes));
  expect(knownSha256(bytes)).toBe(sha(bytes));
});

test('prepares large bodies in copies of the inputs; small and invalid ones are left to validation', async () => {
  const big = randomBytes(LARGE_BODY_BYTES);
  const small = randomBytes(10);
  const notBase64 = '*'.repeat(LARGE_BODY_BYTES);
  const inputs = [
    { body: big.toString('base64') },
    { body: small.toString('base64') },
    { body: notBase64 },
    7,
  ];
  const out = await prepareLargeBodies(inputs);
  const first = (out[0] as { body: Buffer }).body;
  expect(Buffer.isBuffer(first) && first.equals(big)).toBe(true);
  expect(knownSha256(first)).toBe(sha(big));
  expect(typeof inputs[0] === 'object' && typeof (inputs[0] as { body: unknown }).body).toBe('string');
  expect(out.slice(1)).toEqual(inputs.slice(1));
});

test('the Hub writes a batch of large bodies (base64 and bytes) as it would small ones; bad ones are refused', async () => {
  const hub = new Hub(createMemoryStore());
  const tenant = parseTenantId('acme');
  const [a, b] = [randomBytes(LARGE_BODY_BYTES * 2 + 1), randomBytes(LARGE_BODY_BYTES)];
  const input = (body: Buffer, sent: unknown, name: string) => ({
    name,
    media_type: 'application/octet-stream',
    size_bytes: body.length,
    content_sha256: sha(body),
    body: sent,
  });
  const written = await hub.record(tenant, 'artifacts', [
    input(a, a.toString('base64'), 'a'),
    input(b, b, 'b'),
  ]);
  expect(written.map((w) => w.status)).toEqual(['created', 'created']);
  const read = await hub.get(
    tenant,
    'artifacts',
    written.map((w) => w.record_id),
  );
  expect(Buffer.from((read[0] as ArtifactRecord).body).equals(a)).toBe(true);
  expect(read.every((r) => r !== null && verifyRecord(r).verified)).toBe(true);

  // A wrong digest is still caught (the remembered one is of the bytes sent).
  await expect(
    hub.record(tenant, 'artifacts', [{ ...input(a, a.toString('base64'), 'c'), content_sha256: sha(b) }]),
  ).rejects.toThrow(/content_sha256/);
  await expect(
    hub.record(tenant, 'artifacts', [input(a, `${a.toString('base64').slice(0, -4)}@@@@`, 'd')]),
  ).rejects.toThrow(/must be base64/);
});
