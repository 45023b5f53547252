/**
 * bench:abuse's tenant A: the worst requests of issue 11 (see the bench's file
 * comment), sent at full speed from a process of its own.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { gql, jsonBytes, send } from './abuse-http';
import { arg, args } from './abuse-options';

/** One kind of request tenant A sends. */
export interface Attack {
  readonly name: string;
  readonly path: string;
  readonly contentType?: string;
  body(i: number): string | Buffer;
}

/** Tenant A's attacks (sizes from the command line), on its output ids and its 10 MiB artifact. */
function attacks(ids: readonly string[], bigId: string): Attack[] {
  const ENTITIES = arg('entities', 20_000);
  const ALIASES = arg('aliases', 2_000);
  const INGEST_LINES = arg('ingest-lines', 8);
  const ARTIFACT_MIB = arg('artifact-mib', 1);
  const fragments = (levels: number): string => {
    let text = 'fragment F0 on Query { outputs(first: 1) { nodes { id } } }\n';
    for (let i = 1; i <= levels; i++) text += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
    return `query Bomb { ...F${levels} }\n${text}`;
  };
  // Bodies built once, as bytes: the attacker's own CPU stays small.
  const bomb = Buffer.from(gql(fragments(20)));
  // Comments are not tokens: only the text's length stops the lexer.
  const TEXT_MB = arg('text-mb', 15);
  const longText = Buffer.from(
    gql(`# ${'a'.repeat(TEXT_MB * 1_000_000)}\n{ outputs(first: 1) { nodes { id } } }`),
  );
  // JSON.parse of many small objects: refused by the body's JSON values as it is read.
  const BIG_ENTITIES = arg('big-entities', 200_000);
  const manyEntities = jsonBytes(
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id } } }',
    {
      r: Array.from({ length: BIG_ENTITIES }, (_, i) => ({ __typename: 'Output', id: ids[i % ids.length] })),
    },
  );
  const representations = Array.from({ length: ENTITIES }, (_, i) => ({
    __typename: 'Output',
    id: ids[i % ids.length],
  }));
  const entities = jsonBytes(
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id costUsd } } }',
    {
      r: representations,
    },
  );
  const body = randomBytes(ARTIFACT_MIB * 1024 * 1024);
  const line = JSON.stringify({
    name: 'big.bin',
    media_type: 'application/octet-stream',
    size_bytes: body.byteLength,
    content_sha256: createHash('sha256').update(body).digest('hex'),
    body: body.toString('base64'),
  });
  const ingest = Buffer.from(Array.from({ length: INGEST_LINES }, () => line).join('\n'));
  const bodies = Array.from(
    { length: 80 },
    (_, i) => `b${i}: artifacts(first: 50) { nodes { bodyBase64(maxBytes: 10485760) } }`,
  );
  return [
    { name: 'fragment bomb (20 levels)', path: '/graphql', body: () => bomb },
    {
      name: 'page size from a variable default',
      path: '/graphql',
      body: () =>
        gql(
          'query($n: Int = 500) { outputs(first: $n) { nodes { id decisions(first: $n) { nodes { id rationale } } } } }',
        ),
    },
    { name: `_entities x ${ENTITIES}`, path: '/graphql', body: () => entities },
    {
      name: `${ALIASES} aliases of node (fresh text)`,
      path: '/graphql',
      body: (i) =>
        gql(
          `{ ${Array.from({ length: ALIASES }, (_, k) => `a${k}_${i}: node(id: "${ids[(i + k) % ids.length]}") { id }`).join(' ')} }`,
        ),
    },
    {
      name: '80 aliases of bodyBase64 (10 MiB each)',
      path: '/graphql',
      body: () => gql(`{ ${bodies.join(' ')} }`),
    },
    {
      name: `ingest ${INGEST_LINES} x ${ARTIFACT_MIB} MiB artifacts`,
      path: '/ingest/artifacts',
      contentType: 'application/x-ndjson',
      body: () => ingest,
    },
    {
      name: `query text of ${TEXT_MB} MB (a comment)`,
      path: '/graphql',
      body: () => longText,
    },
    {
      name: `${BIG_ENTITIES} representations in the body`,
      path: '/graphql',
      body: () => manyEntities,
    },
    {
      // Allowed (cost 13,655): the largest body, read back whole, as often as A's budget pays for.
      name: 'bodyBase64 of one 10 MiB artifact',
      path: '/graphql',
      body: () => gql(`{ artifact(id: "${bigId}") { id bodyBase64(maxBytes: 10485760) } }`),
    },
    {
      name: 'random operation names',
      path: '/graphql',
      body: () => gql(`query R_${randomUUID().replace(/-/g, '')} { outputs(first: 1) { nodes { id } } }`),
    },
  ];
}

/**
 * Sends the attacks in turn from `workers` concurrent loops, each at full
 * speed until `until`; resolves with each attack's HTTP status counts.
 */
export async function attackLoop(
  url: string,
  token: string,
  list: readonly Attack[],
  workers: number,
  until: number,
): Promise<Map<string, Map<number, number>>> {
  const outcomes = new Map<string, Map<number, number>>(list.map((a) => [a.name, new Map()]));
  let n = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const i = n++;
        const attack = list[i % list.length] as Attack;
        const r = await send(url, attack.path, token, attack.body(i), attack.contentType);
        const counts = outcomes.get(attack.name) as Map<number, number>;
        counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
        // A refused request costs the attacker nothing: it comes straight back (full speed).
      }
    }),
  );
  return outcomes;
}

/** `--attacker`: tenant A's loops in their own process: told what to attack, then when to stop. */
export function attackerProcess(): void {
  process.once('message', (m) => {
    const { url, token, ids, bigId, workers } = m as {
      url: string;
      token: string;
      ids: string[];
      bigId: string;
      workers: number;
    };
    const list = chosenAttacks(ids, bigId);
    process.once('message', (go) => {
      void attackLoop(url, token, list, workers, (go as { until: number }).until).then((outcomes) => {
        process.send?.([...outcomes].map(([name, counts]) => [name, [...counts]]));
      });
    });
    process.send?.('ready');
  });
  process.send?.('listening');
}

/** The attacks to run: every one, or those whose name contains the text after `--only`. */
export function chosenAttacks(ids: readonly string[], bigId: string): Attack[] {
  const only = args.indexOf('--only');
  return attacks(ids, bigId).filter((a) => only < 0 || a.name.includes(args[only + 1] as string));
}
