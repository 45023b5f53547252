-- The feed written as one row per statement (migration: see migrations.ts).
--
-- A feed row per record cost about one more record's worth of row and index
-- work: ~2.5 us of backend CPU and ~270 bytes of WAL per record beside ~18 us
-- and ~1,000 bytes for the rest of the bulk path; two thirds of it was the
-- feed index's B-tree insert, which every record paid. The feed triggers now
-- write one row per statement (per 5,000 records at most) holding the
-- statement's records' fields as arrays, with one index entry, so the
-- per-record work is an array element.
--
-- * hub.rollup_feed_batches holds the rows. Its arrays are stored out of line,
--   compressed with lz4 where the server has it (the times, names and tags
--   compress, the ids do not: ~35 bytes of WAL per record instead of ~110
--   uncompressed), else uncompressed (STORAGE EXTERNAL: pglz costs more CPU
--   than the WAL it saves; PGlite has only pglz).
-- * hub.rollup_feed becomes a view with the same columns, one row per record
--   (security_invoker: the reader's row-level security on the batches
--   applies), so the reads of the unfolded tail and every count of the feed
--   read it as before.
-- * The claim takes whole batch rows, oldest first in the order of their
--   index (tenant, kind, earliest created_at), until it holds max_rows
--   records or more (at least one batch): FOR UPDATE SKIP LOCKED per batch
--   row, deleted in the same transaction as the fold, so each record is
--   still folded exactly once.
-- * The table the feed was (its row type is the fold functions' argument)
--   stays, empty and unreadable, as hub.rollup_feed_row.
-- * Data versions (migration 17, preagg-versions.sql): the triggers that bump
--   a tenant's epoch when feed rows are removed or changed move to the new
--   table, and hub.rollup_forget still bumps last. The version's count of
--   unfolded feed rows (postgres-store-rollups.ts) counts this table's rows:
--   it still only grows between two epochs (writes add rows; only the fold
--   and a purge remove them, and both bump).

SELECT set_config('app.rollup_maintenance', 'on', true);

CREATE TABLE hub.rollup_feed_batches (
  tenant_id     text COLLATE "C" NOT NULL,
  kind          "char" NOT NULL CHECK (kind IN ('o', 'd', 'g')),
  -- the earliest created_at of the batch's records: the claim's order
  first_at      timestamptz NOT NULL,
  n             integer NOT NULL CHECK (n > 0),
  record_ids    uuid[] NOT NULL,
  created_ats   timestamptz[] NOT NULL,
  skill_ids     text[] COLLATE "C",
  employee_ids  text[] COLLATE "C",
  tags          text[] COLLATE "C" NOT NULL,
  costs_usd     numeric(20,6)[],
  input_tokens  bigint[],
  output_tokens bigint[],
  latencies_ms  bigint[],
  output_ids    uuid[]
);
ALTER TABLE hub.rollup_feed_batches
  ALTER record_ids SET STORAGE EXTERNAL, ALTER created_ats SET STORAGE EXTERNAL,
  ALTER skill_ids SET STORAGE EXTERNAL, ALTER employee_ids SET STORAGE EXTERNAL,
  ALTER tags SET STORAGE EXTERNAL, ALTER costs_usd SET STORAGE EXTERNAL,
  ALTER input_tokens SET STORAGE EXTERNAL, ALTER output_tokens SET STORAGE EXTERNAL,
  ALTER latencies_ms SET STORAGE EXTERNAL, ALTER output_ids SET STORAGE EXTERNAL;
DO $$
DECLARE c text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    FOREACH c IN ARRAY ARRAY['record_ids', 'created_ats', 'skill_ids', 'employee_ids', 'tags', 'costs_usd',
                             'input_tokens', 'output_tokens', 'latencies_ms', 'output_ids'] LOOP
      EXECUTE format('ALTER TABLE hub.rollup_feed_batches ALTER %I SET STORAGE EXTENDED, ALTER %I SET COMPRESSION lz4',
                     c, c);
    END LOOP;
  END IF;
END $$;
CREATE INDEX rollup_feed_batches_time ON hub.rollup_feed_batches (tenant_id, kind, first_at);

-- The feed's policies, as they stand (tenant isolation for reads, the
-- owner's maintenance), on the new table.
ALTER TABLE hub.rollup_feed_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE hub.rollup_feed_batches FORCE ROW LEVEL SECURITY;
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT polname, polcmd, pg_get_expr(polqual, polrelid) AS qual,
      ARRAY(SELECT quote_ident(rolname) FROM pg_roles WHERE oid = ANY (polroles)) AS roles
    FROM pg_policy WHERE polrelid = 'hub.rollup_feed'::regclass LOOP
    EXECUTE format('CREATE POLICY %I ON hub.rollup_feed_batches FOR %s TO %s USING (%s)', p.polname,
      CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN '*' THEN 'ALL' ELSE 'UNSUPPORTED' END,
      CASE WHEN cardinality(p.roles) = 0 THEN 'PUBLIC' ELSE array_to_string(p.roles, ', ') END, p.qual);
  END LOOP;
END $$;

-- Unfolded rows move over, in batches of at most 5,000 records per tenant and kind.
INSERT INTO hub.rollup_feed_batches (tenant_id, kind, first_at, n, record_ids, created_ats, skill_ids,
  employee_ids, tags, costs_usd, input_tokens, output_tokens, latencies_ms, output_ids)
SELECT tenant_id, kind, min(created_at), count(*), array_agg(record_id ORDER BY i), array_agg(created_at ORDER BY i),
  array_agg(skill_id ORDER BY i), array_agg(employee_id ORDER BY i), array_agg(tag ORDER BY i),
  array_agg(cost_usd ORDER BY i), array_agg(input_tokens ORDER BY i), array_agg(output_tokens ORDER BY i),
  array_agg(latency_ms ORDER BY i), array_agg(output_id ORDER BY i)
FROM (SELECT f.*, row_number() OVER (PARTITION BY tenant_id, kind ORDER BY created_at, record_id) - 1 AS i
      FROM hub.rollup_feed f) x
GROUP BY tenant_id, kind, i / 5000;
DELETE FROM hub.rollup_feed;

-- Removing or changing feed rows bumps their tenants' data versions (as the
-- triggers of migration 17 did on the old table, whose are dropped below).
CREATE TRIGGER rollup_version AFTER DELETE ON hub.rollup_feed_batches
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_removed();
CREATE TRIGGER rollup_version_update AFTER UPDATE ON hub.rollup_feed_batches
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_removed();

-- The old table keeps only its row type (the argument of hub.rollup_rows and
-- hub.rollup_fold_rows): no index, nobody but the owner may use it.
ALTER TABLE hub.rollup_feed RENAME TO rollup_feed_row;
DROP INDEX hub.rollup_feed_time;
DROP TRIGGER rollup_version ON hub.rollup_feed_row;
DROP TRIGGER rollup_version_update ON hub.rollup_feed_row;
DO $$
DECLARE g record;
BEGIN
  FOR g IN SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid = 'hub.rollup_feed_row'::regclass AND a.grantee <> c.relowner LOOP
    EXECUTE format('REVOKE ALL ON hub.rollup_feed_row FROM %s',
      CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
  END LOOP;
END $$;

-- The feed as the reads know it: a row per record.
CREATE VIEW hub.rollup_feed WITH (security_invoker = true) AS
SELECT b.tenant_id, b.kind, u.record_id, u.created_at, u.skill_id COLLATE "C" AS skill_id,
  u.employee_id COLLATE "C" AS employee_id, u.tag COLLATE "C" AS tag, u.cost_usd, u.input_tokens,
  u.output_tokens, u.latency_ms, u.output_id
FROM hub.rollup_feed_batches b
CROSS JOIN LATERAL unnest(b.record_ids, b.created_ats, b.skill_ids, b.employee_ids, b.tags, b.costs_usd,
  b.input_tokens, b.output_tokens, b.latencies_ms, b.output_ids)
  AS u(record_id, created_at, skill_id, employee_id, tag, cost_usd, input_tokens, output_tokens, latency_ms,
       output_id);

-- Feed triggers: one row per statement and tenant (per 5,000 records: a
-- claim takes whole rows, so a row stays a fold's size).
CREATE OR REPLACE FUNCTION hub.rollup_feed_outputs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed_batches (tenant_id, kind, first_at, n, record_ids, created_ats, skill_ids,
    employee_ids, tags, costs_usd, input_tokens, output_tokens, latencies_ms)
  SELECT tenant_id, 'o', min(created_at), count(*), array_agg(record_id), array_agg(created_at),
    array_agg(skill_id), array_agg(employee_id), array_agg(status), array_agg(cost_usd),
    array_agg(input_tokens), array_agg(output_tokens), array_agg(latency_ms)
  FROM (SELECT r.*, (row_number() OVER () - 1) / 5000 AS part FROM new_rows r) x
  GROUP BY tenant_id, part;
  RETURN NULL;
END $$;

-- A decision's employee is its output's, looked up now under the writer's
-- tenant scope (row-level security on hub.outputs applies to the owner too).
CREATE OR REPLACE FUNCTION hub.rollup_feed_decisions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed_batches (tenant_id, kind, first_at, n, record_ids, created_ats, employee_ids,
    tags, output_ids)
  SELECT tenant_id, 'd', min(created_at), count(*), array_agg(record_id), array_agg(created_at),
    array_agg(employee_id), array_agg(outcome), array_agg(output_id)
  FROM (
    SELECT d.tenant_id, d.record_id, d.created_at, o.employee_id, d.outcome, d.output_id,
      (row_number() OVER () - 1) / 5000 AS part
    FROM new_rows d
    LEFT JOIN hub.outputs o ON o.tenant_id = d.tenant_id AND o.record_id = d.output_id
  ) x
  GROUP BY tenant_id, part;
  RETURN NULL;
END $$;

-- Only events with an employee can belong to a team.
CREATE OR REPLACE FUNCTION hub.rollup_feed_governance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed_batches (tenant_id, kind, first_at, n, record_ids, created_ats, employee_ids,
    tags)
  SELECT tenant_id, 'g', min(created_at), count(*), array_agg(record_id), array_agg(created_at),
    array_agg(employee_id), array_agg(severity)
  FROM (SELECT r.*, (row_number() OVER () - 1) / 5000 AS part FROM new_rows r WHERE employee_id IS NOT NULL) x
  GROUP BY tenant_id, part;
  RETURN NULL;
END $$;

-- The claim: whole batch rows, oldest first in the order of their index,
-- skipping rows another transaction holds, until max_rows records or more
-- are held (at least one row). Rows are locked one FETCH at a time (an
-- explicit cursor fetches no further ahead), then deleted by ctid (a locked
-- row keeps it until this transaction ends) and returned as feed rows.
CREATE OR REPLACE FUNCTION hub.rollup_claim(max_rows integer) RETURNS hub.rollup_feed_row[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_sort = off
  SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  batch hub.rollup_feed_row[];
  picked tid[] := '{}';
  held integer := 0;
  r record;
  c CURSOR FOR
    SELECT ctid, n FROM hub.rollup_feed_batches
    WHERE tenant_id NOT IN (SELECT tenant_id FROM hub.rollup_pending)
    ORDER BY tenant_id, kind, first_at FOR UPDATE SKIP LOCKED;
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  OPEN c;
  WHILE held < max_rows LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    picked := picked || r.ctid;
    held := held + r.n;
  END LOOP;
  CLOSE c;
  IF held = 0 THEN
    RETURN NULL;
  END IF;
  WITH claimed AS (
    DELETE FROM hub.rollup_feed_batches b WHERE b.ctid = ANY (picked) RETURNING b.*
  )
  SELECT array_agg(ROW(c.tenant_id, c.kind, u.record_id, u.created_at, u.skill_id, u.employee_id, u.tag,
    u.cost_usd, u.input_tokens, u.output_tokens, u.latency_ms, u.output_id)::hub.rollup_feed_row)
  INTO batch
  FROM claimed c
  CROSS JOIN LATERAL unnest(c.record_ids, c.created_ats, c.skill_ids, c.employee_ids, c.tags, c.costs_usd,
    c.input_tokens, c.output_tokens, c.latencies_ms, c.output_ids)
    AS u(record_id, created_at, skill_id, employee_id, tag, cost_usd, input_tokens, output_tokens, latency_ms,
         output_id);
  RETURN batch;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_claim(integer) FROM PUBLIC;

-- The consumer, as in preagg-fold-claim.sql, with the row type's new name.
CREATE OR REPLACE FUNCTION hub.rollup_fold(max_rows integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
  SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  folded integer := 0;
  batch hub.rollup_feed_row[];
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  IF max_rows < 1 OR max_rows > 100000 THEN
    RAISE EXCEPTION 'rollup_fold: max_rows must be 1..100000, got %', max_rows USING ERRCODE = '22023';
  END IF;
  -- Folds take turns (a transaction-level advisory lock): the upserts of one
  -- statement reach several tables in no fixed order, so two folds at once
  -- could deadlock. Claims stay SKIP LOCKED, so replicas never fold a row twice.
  PERFORM pg_advisory_xact_lock(7262584914);
  IF EXISTS (SELECT 1 FROM hub.rollup_feed_batches) THEN
    batch := hub.rollup_claim(max_rows);
    folded := coalesce(cardinality(batch), 0);
    IF folded > 0 THEN
      PERFORM hub.rollup_fold_rows(batch);
    END IF;
  END IF;

  IF EXISTS (SELECT 1 FROM hub.rollup_orphan_decisions) THEN
    WITH resolved AS (
      DELETE FROM hub.rollup_orphan_decisions od USING hub.outputs o
      WHERE o.tenant_id = od.tenant_id AND o.record_id = od.output_id
      RETURNING od.tenant_id, od.created_at, od.outcome, o.employee_id
    )
    INSERT INTO hub.rollup_decision_cells AS c (tenant_id, grain, employee_id, start, total, accepted, escalated)
    SELECT b.tenant_id, g.grain, b.employee_id, hub.rollup_cell_start(g.grain, b.created_at), count(*),
      count(*) FILTER (WHERE b.outcome = 'ACCEPTED'), count(*) FILTER (WHERE b.outcome = 'ESCALATED')
    FROM resolved b CROSS JOIN (VALUES ('h'::"char"), ('d')) AS g(grain)
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, grain, employee_id, start) DO UPDATE SET
      total = c.total + excluded.total, accepted = c.accepted + excluded.accepted,
      escalated = c.escalated + excluded.escalated;
  END IF;
  RETURN folded;
END $$;

-- As in preagg-versions.sql (bumping the epoch last), deleting the tenant's
-- feed rows from their table.
CREATE OR REPLACE FUNCTION hub.rollup_forget() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE t text := hub.verified_tenant();
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  IF t IS NULL OR t IS DISTINCT FROM current_setting('app.tenant_id', true) THEN
    RAISE EXCEPTION 'rollup_forget: no verified tenant in scope' USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT 1 FROM hub.outputs WHERE tenant_id = t)
     OR EXISTS (SELECT 1 FROM hub.decisions WHERE tenant_id = t)
     OR EXISTS (SELECT 1 FROM hub.governance_events WHERE tenant_id = t) THEN
    RAISE EXCEPTION 'rollup_forget: tenant % still has records', t USING ERRCODE = '55000';
  END IF;
  DELETE FROM hub.rollup_feed_batches WHERE tenant_id = t;
  DELETE FROM hub.rollup_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_bin_counts WHERE tenant_id = t;
  DELETE FROM hub.rollup_decision_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_governance_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_orphan_decisions WHERE tenant_id = t;
  DELETE FROM hub.rollup_pending WHERE tenant_id = t;
  PERFORM hub.rollup_bump(ARRAY[t]);
END $$;

-- The backfill step, as in preagg-ingest.sql, with the row type's new name.
-- Records already in the feed are left to the consumer: their ids are read
-- once per step as a hashed set (NOT IN; ids are never NULL). A NOT EXISTS
-- on the view would let the planner, which takes each row's arrays for ten
-- elements, unnest the tenant's whole feed again for every record.
CREATE OR REPLACE FUNCTION hub.rollup_backfill(days integer, max_records integer)
RETURNS TABLE (tenant_name text, reached_at timestamptz, ends_at_out timestamptz, finished boolean,
               folded integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
  SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  p hub.rollup_pending%ROWTYPE;
  step_end timestamptz;
  next_at timestamptz;
  batch hub.rollup_feed_row[];
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  IF days < 1 OR days > 366 THEN
    RAISE EXCEPTION 'rollup_backfill: days must be 1..366, got %', days USING ERRCODE = '22023';
  END IF;
  IF max_records < 1 OR max_records > 1000000 THEN
    RAISE EXCEPTION 'rollup_backfill: max_records must be 1..1000000, got %', max_records USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(7262584914);
  SELECT * INTO p FROM hub.rollup_pending ORDER BY tenant_id LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN RETURN; END IF;
  IF p.folded_until IS NULL THEN
    SELECT date_bin('1 day', min(m), timestamptz '2001-01-01 00:00:00+00'), max(x) + interval '1 millisecond'
    INTO p.folded_until, p.ends_at FROM (
      SELECT min(created_at) AS m, max(created_at) AS x FROM hub.outputs WHERE tenant_id = p.tenant_id
      UNION ALL SELECT min(created_at), max(created_at) FROM hub.decisions WHERE tenant_id = p.tenant_id
      UNION ALL SELECT min(created_at), max(created_at) FROM hub.governance_events WHERE tenant_id = p.tenant_id
    ) b;
  END IF;
  IF p.folded_until IS NULL OR p.folded_until >= p.ends_at THEN
    DELETE FROM hub.rollup_pending WHERE tenant_id = p.tenant_id;
    RETURN QUERY SELECT p.tenant_id::text, p.ends_at, p.ends_at, true, 0;
    RETURN;
  END IF;
  step_end := least(p.folded_until + make_interval(hours => 24 * days), p.ends_at);
  -- The instant of the first record past max_records, per table (time indexes).
  SELECT least(
    (SELECT created_at FROM hub.outputs WHERE tenant_id = p.tenant_id AND created_at >= p.folded_until
       AND created_at < step_end ORDER BY created_at OFFSET max_records LIMIT 1),
    (SELECT created_at FROM hub.decisions WHERE tenant_id = p.tenant_id AND created_at >= p.folded_until
       AND created_at < step_end ORDER BY created_at OFFSET max_records LIMIT 1),
    (SELECT created_at FROM hub.governance_events WHERE tenant_id = p.tenant_id AND created_at >= p.folded_until
       AND created_at < step_end ORDER BY created_at OFFSET max_records LIMIT 1))
  INTO next_at;
  IF next_at IS NOT NULL THEN
    -- Always advance: records sharing the position's instant are taken together.
    step_end := greatest(next_at, p.folded_until + interval '1 microsecond');
  END IF;
  SELECT array_agg(r::hub.rollup_feed_row) INTO batch FROM (
    SELECT o.tenant_id, 'o'::"char", o.record_id, o.created_at, o.skill_id, o.employee_id, o.status,
      o.cost_usd, o.input_tokens, o.output_tokens, o.latency_ms, NULL::uuid
    FROM hub.outputs o
    WHERE o.tenant_id = p.tenant_id AND o.created_at >= p.folded_until AND o.created_at < step_end
      AND o.record_id NOT IN (SELECT u.id FROM hub.rollup_feed_batches f CROSS JOIN LATERAL unnest(f.record_ids) AS u(id)
                               WHERE f.tenant_id = p.tenant_id AND f.kind = 'o')
    UNION ALL
    SELECT d.tenant_id, 'd', d.record_id, d.created_at, NULL, o.employee_id, d.outcome,
      NULL, NULL, NULL, NULL, d.output_id
    FROM hub.decisions d LEFT JOIN hub.outputs o ON o.tenant_id = d.tenant_id AND o.record_id = d.output_id
    WHERE d.tenant_id = p.tenant_id AND d.created_at >= p.folded_until AND d.created_at < step_end
      AND d.record_id NOT IN (SELECT u.id FROM hub.rollup_feed_batches f CROSS JOIN LATERAL unnest(f.record_ids) AS u(id)
                               WHERE f.tenant_id = p.tenant_id AND f.kind = 'd')
    UNION ALL
    SELECT g.tenant_id, 'g', g.record_id, g.created_at, NULL, g.employee_id, g.severity,
      NULL, NULL, NULL, NULL, NULL
    FROM hub.governance_events g
    WHERE g.tenant_id = p.tenant_id AND g.created_at >= p.folded_until AND g.created_at < step_end
      AND g.employee_id IS NOT NULL
      AND g.record_id NOT IN (SELECT u.id FROM hub.rollup_feed_batches f CROSS JOIN LATERAL unnest(f.record_ids) AS u(id)
                               WHERE f.tenant_id = p.tenant_id AND f.kind = 'g')
  ) r;
  IF batch IS NOT NULL THEN
    PERFORM hub.rollup_fold_rows(batch);
  END IF;
  IF step_end >= p.ends_at THEN
    DELETE FROM hub.rollup_pending WHERE tenant_id = p.tenant_id;
  ELSE
    UPDATE hub.rollup_pending SET folded_until = step_end, ends_at = p.ends_at WHERE tenant_id = p.tenant_id;
  END IF;
  RETURN QUERY SELECT p.tenant_id::text, step_end, p.ends_at, step_end >= p.ends_at,
    coalesce(cardinality(batch), 0);
END $$;
