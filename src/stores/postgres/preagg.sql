-- Pre-aggregation with a real-time tail (migration: see migrations.ts).
--
-- Writes record a change feed (hub.rollup_feed) in the same transaction as
-- the records: statement-level AFTER INSERT triggers read the statement's
-- transition table. A consumer (hub.rollup_fold) claims feed rows with
-- FOR UPDATE SKIP LOCKED, folds them set-based into cells and deletes them,
-- in one transaction: every record is, at every instant, either in the feed
-- or in the cells, never both, never neither. Reads add cells (whole cells
-- inside the range), raw records (the partial edges) and the feed rows not
-- yet folded, in one statement: the answer equals the raw computation.
--
-- Cells (tenant x grain x employee x cell start x skill):
-- * grain: 'h' hour, 'd' day, 'w' week (from Monday), 'm' month, all UTC.
--   Every cell lies inside one bucket of every coarser grain it serves, so a
--   range splits into raw edges, hour cells, day cells, and week or month
--   cells (see postgres-preagg-plan.ts).
-- * employee_id '' holds all employees of the skill (ids are never empty):
--   grains h, d, w, m. Per employee (team-scoped rollups): grains h and d.
-- * latency: exact counts per integer millisecond (rollup_latencies) and per
--   bin of 128 ms (rollup_latency_bins): a percentile finds its bin from the
--   bins, then reads only that bin's millisecond counts.
-- * decisions by the employee of the output decided on (known when the
--   decision is written, else the decision waits in rollup_orphan_decisions
--   and reads resolve it live); governance events by employee and severity.
--
-- Security: the application role may only SELECT its own (ticket-verified)
-- tenant's rows here (row-level security, forced; a second policy lets the
-- migrating role, which owns the definer functions, maintain every tenant's
-- rows). It gets no write privilege on these tables: triggers and functions
-- are SECURITY DEFINER.

CREATE TABLE hub.rollup_feed (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text COLLATE "C" NOT NULL,
  kind          "char" NOT NULL CHECK (kind IN ('o', 'd', 'g')),
  record_id     uuid NOT NULL,
  created_at    timestamptz NOT NULL,
  skill_id      text COLLATE "C",
  employee_id   text COLLATE "C",
  -- output status, decision outcome or event severity
  tag           text COLLATE "C" NOT NULL,
  cost_usd      numeric(20,6),
  input_tokens  bigint,
  output_tokens bigint,
  latency_ms    bigint,
  output_id     uuid
);
CREATE INDEX rollup_feed_time ON hub.rollup_feed (tenant_id, kind, created_at);

CREATE TABLE hub.rollup_cells (
  tenant_id     text COLLATE "C" NOT NULL,
  grain         "char" NOT NULL,
  employee_id   text COLLATE "C" NOT NULL,
  start         timestamptz NOT NULL,
  skill_id      text COLLATE "C" NOT NULL,
  invocations   bigint NOT NULL,
  failed        bigint NOT NULL,
  cost_usd      numeric NOT NULL,
  input_tokens  numeric NOT NULL,
  output_tokens numeric NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start, skill_id)
);

CREATE TABLE hub.rollup_latency_bins (
  tenant_id   text COLLATE "C" NOT NULL,
  grain       "char" NOT NULL,
  employee_id text COLLATE "C" NOT NULL,
  start       timestamptz NOT NULL,
  skill_id    text COLLATE "C" NOT NULL,
  bin         bigint NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start, skill_id, bin)
);

CREATE TABLE hub.rollup_latencies (
  tenant_id   text COLLATE "C" NOT NULL,
  grain       "char" NOT NULL,
  employee_id text COLLATE "C" NOT NULL,
  start       timestamptz NOT NULL,
  skill_id    text COLLATE "C" NOT NULL,
  latency_ms  bigint NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start, skill_id, latency_ms)
);

CREATE TABLE hub.rollup_decision_cells (
  tenant_id   text COLLATE "C" NOT NULL,
  grain       "char" NOT NULL,
  employee_id text COLLATE "C" NOT NULL,
  start       timestamptz NOT NULL,
  total       bigint NOT NULL,
  accepted    bigint NOT NULL,
  escalated   bigint NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start)
);

CREATE TABLE hub.rollup_governance_cells (
  tenant_id   text COLLATE "C" NOT NULL,
  grain       "char" NOT NULL,
  employee_id text COLLATE "C" NOT NULL,
  start       timestamptz NOT NULL,
  severity    text COLLATE "C" NOT NULL,
  n           bigint NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start, severity)
);

-- Decisions folded before their output was stored (rare: shuffled arrivals).
CREATE TABLE hub.rollup_orphan_decisions (
  tenant_id  text COLLATE "C" NOT NULL,
  record_id  uuid NOT NULL,
  created_at timestamptz NOT NULL,
  output_id  uuid NOT NULL,
  outcome    text COLLATE "C" NOT NULL,
  PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX rollup_orphan_decisions_time ON hub.rollup_orphan_decisions (tenant_id, created_at);

-- Tenants whose records predate the feed and are not yet backfilled: their
-- rollups are computed from raw records, their feed rows wait. `folded_until`
-- is the backfill's position (records with created_at before it are folded),
-- `ends_at` the end fixed when it started (records created later are in the feed).
CREATE TABLE hub.rollup_pending (
  tenant_id    text COLLATE "C" PRIMARY KEY,
  folded_until timestamptz,
  ends_at      timestamptz
);

-- Row-level security, forced like on every table: the application role sees
-- only its tenant's rows; the role running this migration (the owner of the
-- definer functions below) maintains every tenant's.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['rollup_feed', 'rollup_cells', 'rollup_latency_bins', 'rollup_latencies',
                           'rollup_decision_cells', 'rollup_governance_cells',
                           'rollup_orphan_decisions', 'rollup_pending'] LOOP
    EXECUTE format('ALTER TABLE hub.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE hub.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON hub.%I FOR SELECT'
      ' USING (tenant_id = (SELECT current_setting(''app.tenant_id'', true))'
      '        AND (SELECT current_setting(''app.tenant_id'', true)) = (SELECT hub.verified_tenant()))', t);
    EXECUTE format('CREATE POLICY rollup_maintainer ON hub.%I USING (current_user = %L'
                   ' AND current_setting(''app.rollup_maintenance'', true) = ''on'')', t, current_user);
  END LOOP;
  -- The definer functions (owned by this role, and setting
  -- app.rollup_maintenance for their own duration) read records of every
  -- tenant to fold them: the feed triggers, orphan decisions, the backfill.
  -- Reading only; outside those functions the owner stays bound like anyone.
  FOREACH t IN ARRAY ARRAY['outputs', 'decisions', 'governance_events'] LOOP
    EXECUTE format('CREATE POLICY rollup_maintainer ON hub.%I FOR SELECT USING (current_user = %L'
                   ' AND current_setting(''app.rollup_maintenance'', true) = ''on'')', t, current_user);
  END LOOP;
END $$;

-- The start of the cell of `grain` holding `ts` (UTC).
CREATE FUNCTION hub.rollup_cell_start(grain "char", ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE grain
    WHEN 'h' THEN date_bin('1 hour', ts, timestamptz '2001-01-01 00:00:00+00')
    WHEN 'd' THEN date_bin('1 day', ts, timestamptz '2001-01-01 00:00:00+00')
    -- 2001-01-01 is a Monday
    WHEN 'w' THEN date_bin('7 days', ts, timestamptz '2001-01-01 00:00:00+00')
    -- months are not fixed widths: truncate the UTC wall time
    ELSE (date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
  END
$$;

-- Feed triggers: one INSERT ... SELECT per statement from its transition table.
CREATE FUNCTION hub.rollup_feed_outputs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, skill_id, employee_id, tag,
                               cost_usd, input_tokens, output_tokens, latency_ms)
  SELECT tenant_id, 'o', record_id, created_at, skill_id, employee_id, status,
         cost_usd, input_tokens, output_tokens, latency_ms
  FROM new_rows;
  RETURN NULL;
END $$;

-- A decision's employee is its output's, looked up now under the writer's
-- tenant scope (row-level security on hub.outputs applies to the owner too).
CREATE FUNCTION hub.rollup_feed_decisions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, employee_id, tag, output_id)
  SELECT d.tenant_id, 'd', d.record_id, d.created_at, o.employee_id, d.outcome, d.output_id
  FROM new_rows d
  LEFT JOIN hub.outputs o ON o.tenant_id = d.tenant_id AND o.record_id = d.output_id;
  RETURN NULL;
END $$;

-- Only events with an employee can belong to a team.
CREATE FUNCTION hub.rollup_feed_governance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, employee_id, tag)
  SELECT tenant_id, 'g', record_id, created_at, employee_id, severity
  FROM new_rows WHERE employee_id IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER rollup_feed AFTER INSERT ON hub.outputs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_outputs();
CREATE TRIGGER rollup_feed AFTER INSERT ON hub.decisions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_decisions();
CREATE TRIGGER rollup_feed AFTER INSERT ON hub.governance_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_governance();

-- Folds feed-shaped rows (outputs, decisions, governance events) into the
-- cells, grouped per cell and inserted in key order, so two consumers
-- updating the same cells lock them in the same order.
CREATE FUNCTION hub.rollup_fold_rows(rows hub.rollup_feed[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE n integer;
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
    WITH claimed AS (SELECT * FROM unnest(rows)),
    og AS MATERIALIZED (
      SELECT b.tenant_id, g.grain, CASE WHEN g.per_employee THEN b.employee_id ELSE '' END AS employee_id,
        hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id, b.tag, b.cost_usd,
        b.input_tokens, b.output_tokens, b.latency_ms
      FROM claimed b
      CROSS JOIN (VALUES ('h'::"char", false), ('d', false), ('w', false), ('m', false), ('h', true), ('d', true))
        AS g(grain, per_employee)
      WHERE b.kind = 'o'
    ),
    c1 AS (
      INSERT INTO hub.rollup_cells AS c
        (tenant_id, grain, employee_id, start, skill_id, invocations, failed, cost_usd, input_tokens, output_tokens)
      SELECT tenant_id, grain, employee_id, start, skill_id, count(*), count(*) FILTER (WHERE tag <> 'SUCCEEDED'),
        sum(cost_usd), sum(input_tokens), sum(output_tokens)
      FROM og GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (tenant_id, grain, employee_id, start, skill_id) DO UPDATE SET
        invocations = c.invocations + excluded.invocations, failed = c.failed + excluded.failed,
        cost_usd = c.cost_usd + excluded.cost_usd, input_tokens = c.input_tokens + excluded.input_tokens,
        output_tokens = c.output_tokens + excluded.output_tokens
    ),
    c2 AS (
      INSERT INTO hub.rollup_latency_bins AS c (tenant_id, grain, employee_id, start, skill_id, bin, n)
      SELECT tenant_id, grain, employee_id, start, skill_id, latency_ms / 128, count(*)
      FROM og WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (tenant_id, grain, employee_id, start, skill_id, bin) DO UPDATE SET n = c.n + excluded.n
    ),
    c3 AS (
      INSERT INTO hub.rollup_latencies AS c (tenant_id, grain, employee_id, start, skill_id, latency_ms, n)
      SELECT tenant_id, grain, employee_id, start, skill_id, latency_ms, count(*)
      FROM og WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (tenant_id, grain, employee_id, start, skill_id, latency_ms) DO UPDATE SET n = c.n + excluded.n
    ),
    c4 AS (
      INSERT INTO hub.rollup_decision_cells AS c (tenant_id, grain, employee_id, start, total, accepted, escalated)
      SELECT b.tenant_id, g.grain, b.employee_id, hub.rollup_cell_start(g.grain, b.created_at), count(*),
        count(*) FILTER (WHERE b.tag = 'ACCEPTED'), count(*) FILTER (WHERE b.tag = 'ESCALATED')
      FROM claimed b CROSS JOIN (VALUES ('h'::"char"), ('d')) AS g(grain)
      WHERE b.kind = 'd' AND b.employee_id IS NOT NULL
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (tenant_id, grain, employee_id, start) DO UPDATE SET
        total = c.total + excluded.total, accepted = c.accepted + excluded.accepted,
        escalated = c.escalated + excluded.escalated
    ),
    c5 AS (
      INSERT INTO hub.rollup_orphan_decisions (tenant_id, record_id, created_at, output_id, outcome)
      SELECT tenant_id, record_id, created_at, output_id, tag FROM claimed
      WHERE kind = 'd' AND employee_id IS NULL
      ON CONFLICT DO NOTHING
    ),
    c6 AS (
      INSERT INTO hub.rollup_governance_cells AS c (tenant_id, grain, employee_id, start, severity, n)
      SELECT b.tenant_id, g.grain, b.employee_id, hub.rollup_cell_start(g.grain, b.created_at), b.tag, count(*)
      FROM claimed b CROSS JOIN (VALUES ('h'::"char"), ('d')) AS g(grain)
      WHERE b.kind = 'g' AND b.employee_id IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (tenant_id, grain, employee_id, start, severity) DO UPDATE SET n = c.n + excluded.n
    )
    SELECT count(*) INTO n FROM claimed;
END $$;

-- The consumer: claims up to `max_rows` feed rows of tenants not waiting for
-- a backfill (FOR UPDATE SKIP LOCKED: replicas take disjoint rows), deletes
-- them and folds them into the cells, in ONE statement of the caller's
-- transaction. Rows are grouped per cell and inserted in key order, so two
-- consumers updating the same cells lock them in the same order. Then it
-- resolves orphan decisions whose output has arrived since.
-- Returns the feed rows folded.
CREATE FUNCTION hub.rollup_fold(max_rows integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  folded integer := 0;
  batch hub.rollup_feed[];
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
  IF EXISTS (SELECT 1 FROM hub.rollup_feed) THEN
    WITH claimed AS (
      DELETE FROM hub.rollup_feed f WHERE f.id IN (
        SELECT id FROM hub.rollup_feed
        WHERE tenant_id NOT IN (SELECT tenant_id FROM hub.rollup_pending)
        ORDER BY id LIMIT max_rows FOR UPDATE SKIP LOCKED)
      RETURNING f.*
    )
    SELECT array_agg(claimed), count(*) INTO batch, folded FROM claimed;
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

-- One backfill step: takes a pending tenant no other step holds, folds its
-- records with created_at in [cursor, cursor + `days` days) that are not in
-- the feed (those are folded by the consumer once the tenant is ready), and
-- advances the cursor; past the end fixed at the first step the tenant is
-- ready (its feed rows are consumed from then on, and reads use the cells).
-- Each step is one transaction: a backfill stopped anywhere resumes at its
-- position. Returns the tenant, its position and end, and whether it is done
-- (no row when no tenant is pending).
CREATE FUNCTION hub.rollup_backfill(days integer)
RETURNS TABLE (tenant_name text, reached_at timestamptz, ends_at_out timestamptz, finished boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p hub.rollup_pending%ROWTYPE;
  step_end timestamptz;
  batch hub.rollup_feed[];
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  IF days < 1 OR days > 366 THEN
    RAISE EXCEPTION 'rollup_backfill: days must be 1..366, got %', days USING ERRCODE = '22023';
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
    RETURN QUERY SELECT p.tenant_id::text, p.ends_at, p.ends_at, true;
    RETURN;
  END IF;
  step_end := least(p.folded_until + make_interval(hours => 24 * days), p.ends_at);
  SELECT array_agg(r::hub.rollup_feed) INTO batch FROM (
    SELECT 0::bigint, o.tenant_id, 'o'::"char", o.record_id, o.created_at, o.skill_id, o.employee_id, o.status,
      o.cost_usd, o.input_tokens, o.output_tokens, o.latency_ms, NULL::uuid
    FROM hub.outputs o
    WHERE o.tenant_id = p.tenant_id AND o.created_at >= p.folded_until AND o.created_at < step_end
      AND NOT EXISTS (SELECT 1 FROM hub.rollup_feed f
                      WHERE f.tenant_id = p.tenant_id AND f.kind = 'o' AND f.record_id = o.record_id)
    UNION ALL
    SELECT 0, d.tenant_id, 'd', d.record_id, d.created_at, NULL, o.employee_id, d.outcome,
      NULL, NULL, NULL, NULL, d.output_id
    FROM hub.decisions d LEFT JOIN hub.outputs o ON o.tenant_id = d.tenant_id AND o.record_id = d.output_id
    WHERE d.tenant_id = p.tenant_id AND d.created_at >= p.folded_until AND d.created_at < step_end
      AND NOT EXISTS (SELECT 1 FROM hub.rollup_feed f
                      WHERE f.tenant_id = p.tenant_id AND f.kind = 'd' AND f.record_id = d.record_id)
    UNION ALL
    SELECT 0, g.tenant_id, 'g', g.record_id, g.created_at, NULL, g.employee_id, g.severity,
      NULL, NULL, NULL, NULL, NULL
    FROM hub.governance_events g
    WHERE g.tenant_id = p.tenant_id AND g.created_at >= p.folded_until AND g.created_at < step_end
      AND g.employee_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM hub.rollup_feed f
                      WHERE f.tenant_id = p.tenant_id AND f.kind = 'g' AND f.record_id = g.record_id)
  ) r;
  IF batch IS NOT NULL THEN
    PERFORM hub.rollup_fold_rows(batch);
  END IF;
  IF step_end >= p.ends_at THEN
    DELETE FROM hub.rollup_pending WHERE tenant_id = p.tenant_id;
  ELSE
    UPDATE hub.rollup_pending SET folded_until = step_end, ends_at = p.ends_at WHERE tenant_id = p.tenant_id;
  END IF;
  RETURN QUERY SELECT p.tenant_id::text, step_end, p.ends_at, step_end >= p.ends_at;
END $$;

-- Forgets the calling (ticket-verified) tenant's feed rows and cells, once
-- its records are gone (the tenant purge, after hub.purge_tenant in the same
-- transaction): cells of a tenant without records are empty anyway, so the
-- function cannot be used to make answers wrong.
CREATE FUNCTION hub.rollup_forget() RETURNS void
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
  DELETE FROM hub.rollup_feed WHERE tenant_id = t;
  DELETE FROM hub.rollup_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_latency_bins WHERE tenant_id = t;
  DELETE FROM hub.rollup_latencies WHERE tenant_id = t;
  DELETE FROM hub.rollup_decision_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_governance_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_orphan_decisions WHERE tenant_id = t;
  DELETE FROM hub.rollup_pending WHERE tenant_id = t;
END $$;

REVOKE ALL ON FUNCTION hub.rollup_fold_rows(hub.rollup_feed[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION hub.rollup_fold(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION hub.rollup_backfill(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION hub.rollup_forget() FROM PUBLIC;

-- Tenants with records written before the feed existed wait for a backfill
-- (read through the rollup_maintainer policy above).
INSERT INTO hub.rollup_pending (tenant_id)
WITH RECURSIVE
  o AS (SELECT min(tenant_id) AS id FROM hub.outputs
        UNION ALL SELECT (SELECT min(tenant_id) FROM hub.outputs WHERE tenant_id > o.id) FROM o WHERE o.id IS NOT NULL),
  d AS (SELECT min(tenant_id) AS id FROM hub.decisions
        UNION ALL SELECT (SELECT min(tenant_id) FROM hub.decisions WHERE tenant_id > d.id) FROM d WHERE d.id IS NOT NULL),
  g AS (SELECT min(tenant_id) AS id FROM hub.governance_events
        UNION ALL SELECT (SELECT min(tenant_id) FROM hub.governance_events WHERE tenant_id > g.id) FROM g WHERE g.id IS NOT NULL)
SELECT id FROM o WHERE id IS NOT NULL
UNION SELECT id FROM d WHERE id IS NOT NULL
UNION SELECT id FROM g WHERE id IS NOT NULL;
