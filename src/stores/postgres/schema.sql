-- The Hub's PostgreSQL schema, version 1 (applied by `hub db migrate` as
-- migration 0001; later changes are new numbered migrations, see migrations.ts).
--
-- Conventions
-- * Everything lives in schema `hub`. One table per record type; the record
--   type itself is implied by the table and not stored.
-- * Columns follow src/hub/model.ts TYPE_FIELDS: ids and text are `text COLLATE "C"`
--   (byte order, so ORDER BY agrees with JavaScript string order on every
--   server whatever its default collation), UUIDs `uuid`, integers `bigint`,
--   decimals `numeric(20,6)`, timestamps `timestamptz`, JSON `jsonb`, the
--   artifact body `bytea`. A test compares these columns with TYPE_FIELDS.
-- * Primary key (tenant_id, record_id): a record id is unique per tenant only.
-- * Indexes are ascending; list queries (created_at DESC, record_id DESC) read
--   them backwards, scans read them forwards.
-- * Row-Level Security is ENABLEd and FORCEd on every table: even the owner is
--   subject to it. A row is visible and writable only when its tenant_id equals
--   the transaction's `app.tenant_id` setting. The setting is read through a
--   scalar sub-select so the planner evaluates it once (an InitPlan) and can
--   still use the tenant-leading indexes.
-- * Records are immutable: the application role gets SELECT, INSERT and DELETE
--   (for the audited tenant purge) on record tables, never UPDATE.

CREATE SCHEMA IF NOT EXISTS hub;

CREATE TABLE hub.outputs (
  tenant_id       text COLLATE "C" NOT NULL,
  record_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  attributes      jsonb,
  provenance_hash text COLLATE "C" NOT NULL,
  skill_id        text COLLATE "C" NOT NULL,
  employee_id     text COLLATE "C" NOT NULL,
  invocation_id   text COLLATE "C",
  model           text COLLATE "C",
  status          text COLLATE "C" NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'BLOCKED')),
  input_tokens    bigint NOT NULL CHECK (input_tokens >= 0),
  output_tokens   bigint NOT NULL CHECK (output_tokens >= 0),
  cost_usd        numeric(20,6) NOT NULL CHECK (cost_usd >= 0),
  latency_ms      bigint CHECK (latency_ms >= 0),
  content         jsonb,
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX outputs_time     ON hub.outputs (tenant_id, created_at, record_id);
CREATE INDEX outputs_skill    ON hub.outputs (tenant_id, skill_id, created_at, record_id);
CREATE INDEX outputs_employee ON hub.outputs (tenant_id, employee_id, created_at, record_id);
CREATE INDEX outputs_status   ON hub.outputs (tenant_id, status, created_at, record_id);

CREATE TABLE hub.decisions (
  tenant_id       text COLLATE "C" NOT NULL,
  record_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  attributes      jsonb,
  provenance_hash text COLLATE "C" NOT NULL,
  output_id       uuid NOT NULL,
  skill_id        text COLLATE "C" NOT NULL,
  decided_by      text COLLATE "C" NOT NULL,
  outcome         text COLLATE "C" NOT NULL CHECK (outcome IN ('ACCEPTED', 'REJECTED', 'EDITED', 'ESCALATED')),
  rationale       text COLLATE "C",
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX decisions_time    ON hub.decisions (tenant_id, created_at, record_id);
CREATE INDEX decisions_skill   ON hub.decisions (tenant_id, skill_id, created_at, record_id);
CREATE INDEX decisions_output  ON hub.decisions (tenant_id, output_id, created_at, record_id);
CREATE INDEX decisions_outcome ON hub.decisions (tenant_id, outcome, created_at, record_id);

CREATE TABLE hub.governance_events (
  tenant_id         text COLLATE "C" NOT NULL,
  record_id         uuid NOT NULL,
  created_at        timestamptz NOT NULL,
  attributes        jsonb,
  provenance_hash   text COLLATE "C" NOT NULL,
  policy_id         text COLLATE "C" NOT NULL,
  severity          text COLLATE "C" NOT NULL CHECK (severity IN ('INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
  action            text COLLATE "C" NOT NULL CHECK (action IN ('ALLOWED', 'FLAGGED', 'BLOCKED', 'REDACTED')),
  skill_id          text COLLATE "C",
  employee_id       text COLLATE "C",
  subject_record_id uuid,
  detail            text COLLATE "C",
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX governance_events_time     ON hub.governance_events (tenant_id, created_at, record_id);
CREATE INDEX governance_events_skill    ON hub.governance_events (tenant_id, skill_id, created_at, record_id);
CREATE INDEX governance_events_employee ON hub.governance_events (tenant_id, employee_id, created_at, record_id);
CREATE INDEX governance_events_severity ON hub.governance_events (tenant_id, severity, created_at, record_id);
CREATE INDEX governance_events_action   ON hub.governance_events (tenant_id, action, created_at, record_id);

CREATE TABLE hub.artifacts (
  tenant_id       text COLLATE "C" NOT NULL,
  record_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  attributes      jsonb,
  provenance_hash text COLLATE "C" NOT NULL,
  name            text COLLATE "C" NOT NULL,
  media_type      text COLLATE "C" NOT NULL,
  size_bytes      bigint NOT NULL CHECK (size_bytes >= 0),
  content_sha256  text COLLATE "C" NOT NULL,
  skill_id        text COLLATE "C",
  output_id       uuid,
  employee_id     text COLLATE "C",
  body            bytea NOT NULL,
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX artifacts_time     ON hub.artifacts (tenant_id, created_at, record_id);
CREATE INDEX artifacts_skill    ON hub.artifacts (tenant_id, skill_id, created_at, record_id);
CREATE INDEX artifacts_employee ON hub.artifacts (tenant_id, employee_id, created_at, record_id);
CREATE INDEX artifacts_output   ON hub.artifacts (tenant_id, output_id, created_at, record_id);

CREATE TABLE hub.employee_profiles (
  tenant_id       text COLLATE "C" NOT NULL,
  record_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  attributes      jsonb,
  provenance_hash text COLLATE "C" NOT NULL,
  employee_id     text COLLATE "C" NOT NULL,
  display_name    text COLLATE "C" NOT NULL,
  archetype       text COLLATE "C" NOT NULL,
  level           text COLLATE "C" NOT NULL CHECK (level IN ('L1', 'L2', 'L3', 'L4', 'L5')),
  manager_id      text COLLATE "C",
  team            text COLLATE "C",
  effective_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX employee_profiles_time     ON hub.employee_profiles (tenant_id, created_at, record_id);
-- Serves the list filter and the rollups' per-person version order.
CREATE INDEX employee_profiles_employee ON hub.employee_profiles (tenant_id, employee_id, created_at, record_id);
CREATE INDEX employee_profiles_versions ON hub.employee_profiles (tenant_id, employee_id, effective_at, created_at, record_id);

CREATE TABLE hub.telemetry_events (
  tenant_id       text COLLATE "C" NOT NULL,
  record_id       uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  attributes      jsonb,
  provenance_hash text COLLATE "C" NOT NULL,
  name            text COLLATE "C" NOT NULL,
  skill_id        text COLLATE "C",
  employee_id     text COLLATE "C",
  duration_ms     bigint CHECK (duration_ms >= 0),
  cost_usd        numeric(20,6) CHECK (cost_usd >= 0),
  input_tokens    bigint CHECK (input_tokens >= 0),
  output_tokens   bigint CHECK (output_tokens >= 0),
  properties      jsonb,
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX telemetry_events_time     ON hub.telemetry_events (tenant_id, created_at, record_id);
CREATE INDEX telemetry_events_skill    ON hub.telemetry_events (tenant_id, skill_id, created_at, record_id);
CREATE INDEX telemetry_events_employee ON hub.telemetry_events (tenant_id, employee_id, created_at, record_id);

-- Dual-write outbox: one row per created record, written in the same
-- transaction as the record when the store is opened with its outbox on. The
-- relay leases rows (claimed_until) with FOR UPDATE SKIP LOCKED, ships them,
-- then deletes them; an expired lease makes a row claimable again.
CREATE TABLE hub.outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text COLLATE "C" NOT NULL,
  record_type   text COLLATE "C" NOT NULL,
  record_id     uuid NOT NULL,
  enqueued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  claimed_until timestamptz
);
CREATE INDEX outbox_tenant ON hub.outbox (tenant_id, id);

-- Row-Level Security on every table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['outputs', 'decisions', 'governance_events', 'artifacts',
                           'employee_profiles', 'telemetry_events', 'outbox'] LOOP
    EXECUTE format('ALTER TABLE hub.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE hub.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON hub.%I'
      ' USING (tenant_id = (SELECT current_setting(''app.tenant_id'', true)))'
      ' WITH CHECK (tenant_id = (SELECT current_setting(''app.tenant_id'', true)))', t);
  END LOOP;
END $$;

-- The outbox relay ships every tenant's entries: a transaction that sets
-- app.outbox_relay = 'on' may see, lease and delete outbox rows of any tenant
-- (never records: it reads those per tenant, under tenant_isolation).
CREATE POLICY relay_access ON hub.outbox
  USING ((SELECT current_setting('app.outbox_relay', true)) = 'on')
  WITH CHECK ((SELECT current_setting('app.outbox_relay', true)) = 'on');
