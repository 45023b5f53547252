/**
 * Record inputs used by the conformance suite: for every type, one record
 * with every optional field set and one with only the required fields.
 */
import { createHash } from 'node:crypto';
import type { RecordType } from '../../src/hub/model';
import type { RecordInput } from '../../src/hub/validate';
import { randomUUID } from 'node:crypto';

const body = Buffer.from([0, 1, 2, 250, 255, 10, 13, 0x7f, ...Buffer.from('artifact body ✓')]);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A record of each type with every optional field present (fresh ids each call). */
export function fullRecords(): { [T in RecordType]: RecordInput } {
  const outputId = randomUUID();
  return {
    outputs: {
      record_id: outputId,
      created_at: '2026-03-02T10:11:12.345Z',
      attributes: {
        team: 'core',
        nested: { list: [1, 2.5, -3, true, null, 'é'], empty: {} },
        big: 12345678901,
      },
      skill_id: 'skill.summarize',
      employee_id: 'emp:42@acme',
      invocation_id: 'inv-0001',
      model: 'claude-sonnet',
      status: 'FAILED',
      input_tokens: 1234,
      output_tokens: 567,
      cost_usd: '12.345678',
      latency_ms: 987,
      content: { text: 'Line 1\nLine "2"\t\u00e9\u{1F600}', scores: [0.1, 1e-7, 1e21], ok: false },
    },
    decisions: {
      record_id: randomUUID(),
      created_at: '2026-03-02T11:00:00.000Z',
      attributes: { source: 'review-ui' },
      output_id: outputId,
      skill_id: 'skill.summarize',
      decided_by: 'emp-7',
      outcome: 'EDITED',
      rationale: 'Tightened the summary; removed a claim without a source.',
    },
    governance_events: {
      record_id: randomUUID(),
      created_at: '2026-03-02T11:00:00.001Z',
      attributes: { rule: 7 },
      policy_id: 'pii.redaction',
      severity: 'CRITICAL',
      action: 'REDACTED',
      skill_id: 'skill.summarize',
      employee_id: 'emp:42@acme',
      subject_record_id: outputId,
      detail: 'Redacted 2 e-mail addresses',
    },
    artifacts: {
      record_id: randomUUID(),
      created_at: '2026-03-02T11:00:01.000Z',
      attributes: { pages: 3 },
      name: 'summary report (final).bin',
      media_type: 'application/octet-stream',
      size_bytes: body.byteLength,
      content_sha256: sha(body),
      skill_id: 'skill.summarize',
      output_id: outputId,
      employee_id: 'emp:42@acme',
      body,
    },
    employee_profiles: {
      record_id: randomUUID(),
      created_at: '2026-03-02T12:00:00.000Z',
      attributes: { location: 'Lisbon' },
      employee_id: 'emp:42@acme',
      display_name: 'Zoë O’Brien',
      archetype: 'analyst',
      level: 'L2',
      manager_id: 'mgr-1',
      team: 'Data & Insights',
      effective_at: '2026-03-01T00:00:00.000Z',
    },
    telemetry_events: {
      record_id: randomUUID(),
      created_at: '2026-03-02T12:00:00.999Z',
      attributes: { host: 'gw-1' },
      name: 'skill.invoked',
      skill_id: 'skill.summarize',
      employee_id: 'emp:42@acme',
      duration_ms: 1500,
      cost_usd: '0.000001',
      input_tokens: 10,
      output_tokens: 0,
      properties: { region: 'eu', retries: 0, flags: ['a', 'b'] },
    },
  };
}

/** A record of each type with only the required fields (defaults applied by the Hub). */
export function minimalRecords(): { [T in RecordType]: RecordInput } {
  const empty = Buffer.alloc(0);
  return {
    outputs: { skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' },
    decisions: { output_id: randomUUID(), skill_id: 's', decided_by: 'e', outcome: 'ACCEPTED' },
    governance_events: { policy_id: 'p', severity: 'INFO', action: 'ALLOWED' },
    artifacts: {
      name: 'empty',
      media_type: 'text/plain',
      size_bytes: 0,
      content_sha256: sha(empty),
      body: empty,
    },
    employee_profiles: { employee_id: 'e', display_name: 'E', archetype: 'analyst', level: 'L1' },
    telemetry_events: { name: 'skill.invoked' },
  };
}
