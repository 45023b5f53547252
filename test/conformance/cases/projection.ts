/**
 * Projections: a read that leaves the artifact body out returns the same
 * records, ids, order and metadata as a full read, with no body
 * (`BODY_NOT_READ`) and the stored hash unchanged; a full read of the same
 * records still verifies, body included. Through every read path: list (alone
 * and batched), getByIds, nested children, and across tenants.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type ArtifactRecord, BODY_NOT_READ, type HubRecord, bodyWasRead } from '../../../src/hub/model';
import { computeProvenanceHash, verifyRecord } from '../../../src/hub/provenance';
import type { SuiteContext } from '../suite';

const NO_BODY = { body: false } as const;

/** Every field but the body. */
function metadata(r: HubRecord | null | undefined): Record<string, unknown> {
  const { body: _body, ...rest } = r as ArtifactRecord;
  return rest;
}

function expectProjected(light: HubRecord | null | undefined, full: HubRecord | null | undefined): void {
  expect(light?.record_type).toBe('artifacts');
  const art = light as ArtifactRecord;
  expect(art.body).toBe(BODY_NOT_READ);
  expect(bodyWasRead(art)).toBe(false);
  expect(metadata(light)).toEqual(metadata(full));
  // The hash is returned as stored and still matches the record's fields...
  expect(computeProvenanceHash(art as unknown as Record<string, unknown>)).toBe(art.provenance_hash);
  // ...but a record whose body was not read is never reported verified.
  expect(verifyRecord(art).verified).toBe(false);
  expect(verifyRecord(full as HubRecord).verified).toBe(true);
}

export function projectionCases(ctx: SuiteContext): void {
  describe('projections', () => {
    ctx.test('a list, a batch of lists and getByIds without the body: same records, no body', async () => {
      const tenant = ctx.tenant();
      const hub = ctx.hub();
      const outputs = await hub.record(tenant, 'outputs', [
        { skill_id: 's', employee_id: 'e1', status: 'SUCCEEDED' },
        { skill_id: 's', employee_id: 'e2', status: 'SUCCEEDED' },
      ]);
      const [o1, o2] = outputs.map((o) => o.record_id) as [string, string];
      const bodies = [randomBytes(300 * 1024), randomBytes(5), Buffer.alloc(0)];
      const inputs = bodies.map((body, i) => ({
        name: `f${i}.bin`,
        media_type: 'application/octet-stream',
        size_bytes: body.length,
        content_sha256: createHash('sha256').update(body).digest('hex'),
        output_id: i === 0 ? o2 : o1,
        created_at: `2026-03-01T00:00:0${i}.000Z`,
        body,
      }));
      const written = await hub.record(tenant, 'artifacts', inputs);
      expect(written.every((w) => w.status === 'created')).toBe(true);
      await ctx.settle();
      const store = ctx.store();

      const full = await store.list(tenant, { type: 'artifacts', filter: {}, limit: 10 });
      const light = await store.list(tenant, {
        type: 'artifacts',
        filter: {},
        limit: 10,
        projection: NO_BODY,
      });
      expect(light.map((r) => r.record_id)).toEqual(full.map((r) => r.record_id));
      expect(full).toHaveLength(3);
      light.forEach((r, i) => expectProjected(r, full[i]));
      // The empty body read whole is an empty body, not "not read".
      const empty = full.find((r) => (r as ArtifactRecord).size_bytes === 0) as ArtifactRecord;
      expect(bodyWasRead(empty)).toBe(true);

      // Lists started together (a store may answer them in one statement).
      const [byO1, byO2, byO1Full] = await Promise.all([
        store.list(tenant, { type: 'artifacts', filter: { outputId: o1 }, limit: 10, projection: NO_BODY }),
        store.list(tenant, { type: 'artifacts', filter: { outputId: o2 }, limit: 10, projection: NO_BODY }),
        store.list(tenant, { type: 'artifacts', filter: { outputId: o1 }, limit: 10 }),
      ]);
      expect(byO1.map((r) => r.record_id)).toEqual(byO1Full.map((r) => r.record_id));
      expect(byO1).toHaveLength(2);
      byO1.forEach((r, i) => expectProjected(r, byO1Full[i]));
      expect(byO1Full.every((r) => bodyWasRead(r as ArtifactRecord))).toBe(true);
      expect(byO2).toHaveLength(1);

      const ids = full.map((r) => r.record_id);
      const got = await store.getByIds(tenant, 'artifacts', [ids[1] as string, ids[0] as string], NO_BODY);
      expectProjected(got[0], full[1]);
      expectProjected(got[1], full[0]);
      const whole = await store.getByIds(tenant, 'artifacts', [ids[0] as string]);
      expect(
        Buffer.from((whole[0] as ArtifactRecord).body).equals(Buffer.from((full[0] as ArtifactRecord).body)),
      ).toBe(true);

      // Another tenant's projected reads find nothing.
      const other = ctx.tenant();
      expect(
        await store.list(other, { type: 'artifacts', filter: {}, limit: 10, projection: NO_BODY }),
      ).toEqual([]);
      expect(await store.getByIds(other, 'artifacts', ids, NO_BODY)).toEqual(ids.map(() => null));
    });

    ctx.test('lookups by id through the Hub: no body unless asked for, never across tenants', async () => {
      const tenant = ctx.tenant();
      const other = ctx.tenant();
      const hub = ctx.hub();
      const artifact = (body: Buffer, name: string) => ({
        name,
        media_type: 'application/octet-stream',
        size_bytes: body.length,
        content_sha256: createHash('sha256').update(body).digest('hex'),
        body,
      });
      const big = randomBytes(200 * 1024);
      const [mine] = await hub.record(tenant, 'artifacts', [artifact(big, 'mine.bin')]);
      const [theirs] = await hub.record(other, 'artifacts', [artifact(randomBytes(10), 'theirs.bin')]);
      const [id, otherId] = [mine?.record_id as string, theirs?.record_id as string];
      await ctx.settle();

      // Ids as a client may send them: upper case, repeated, malformed, another tenant's.
      const ids = [id.toUpperCase(), 'not-a-uuid', otherId, id];
      const light = await hub.get(tenant, 'artifacts', ids, NO_BODY);
      const full = await hub.get(tenant, 'artifacts', ids);
      expect(light.map((r) => r?.record_id ?? null)).toEqual([id, null, null, id]);
      expect(full.map((r) => r?.record_id ?? null)).toEqual([id, null, null, id]);
      expectProjected(light[0], full[0]);
      expectProjected(light[3], full[3]);
      expect(Buffer.from((full[0] as ArtifactRecord).body).equals(big)).toBe(true);
      expect(verifyRecord(full[3] as HubRecord).verified).toBe(true);

      // The other tenant sees only its own, with or without bodies.
      const fromOther = await hub.get(other, 'artifacts', [id, otherId], NO_BODY);
      expect(fromOther[0]).toBeNull();
      expect(fromOther[1]?.record_id).toBe(otherId);
      expect((fromOther[1] as ArtifactRecord).body).toBe(BODY_NOT_READ);
      expect((await hub.get(other, 'artifacts', [id]))[0]).toBeNull();
    });

    ctx.test("a page's children without their bodies: the same children as a full read", async () => {
      const tenant = ctx.tenant();
      const hub = ctx.hub();
      const [out] = await hub.record(tenant, 'outputs', [
        { skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' },
      ]);
      const body = randomBytes(1000);
      await hub.record(tenant, 'artifacts', [
        {
          name: 'a.bin',
          media_type: 'application/octet-stream',
          size_bytes: body.length,
          content_sha256: createHash('sha256').update(body).digest('hex'),
          output_id: out?.record_id,
          body,
        },
      ]);
      await ctx.settle();
      const child = { type: 'artifacts', key: 'outputId', first: 5 } as const;
      const full = await hub.listWithChildren(tenant, 'outputs', {}, { first: 5 }, child);
      const light = await hub.listWithChildren(
        tenant,
        'outputs',
        {},
        { first: 5 },
        { ...child, projection: NO_BODY },
      );
      expect(light.page.records.map((r) => r.record_id)).toEqual(full.page.records.map((r) => r.record_id));
      const [lightChildren, fullChildren] = [
        light.children[0]?.records ?? [],
        full.children[0]?.records ?? [],
      ];
      expect(lightChildren).toHaveLength(1);
      expectProjected(lightChildren[0], fullChildren[0]);
    });
  });
}
