-- A cheaper feed and a cheaper fold (migration: see migrations.ts).
--
-- 1. The feed keeps one index. Each record's feed row paid for two B-tree
--    inserts (the identity primary key the consumer claimed in order, and
--    (tenant_id, kind, created_at) the reads use) and a nextval: together
--    ~60% of the feed trigger's backend work. The identity column goes; the
--    consumer claims rows in the order of the remaining index (per tenant and
--    kind, oldest created_at first) and deletes them by their physical
--    address (ctid), which a row keeps while it is locked FOR UPDATE.
-- 2. The maintainer policies test the maintenance setting through a scalar
--    subquery: one InitPlan per statement instead of a current_setting call
--    per row (the feed's WITH CHECK on every inserted row, the fold's upserts).
-- 3. The fold merges latency counts with inline subqueries instead of a SQL
--    function call per conflicting row, and computes the p95 statistics of
--    all touched all-employee cells in ONE statement (per cell a LATERAL
--    subquery: window sums over its bins, then the milliseconds of the bins
--    holding the two ranks) instead of one SQL function call per cell (each
--    call started an executor and switched search_path), which was 40-65% of
--    a fold. Same values: a test compares every cell's statistics with
--    hub.rollup_counts_p95 / hub.rollup_cell_p95, kept for that.

SELECT set_config('app.rollup_maintenance', 'on', true);

ALTER TABLE hub.rollup_feed DROP COLUMN id;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['rollup_feed', 'rollup_cells', 'rollup_bin_counts', 'rollup_decision_cells',
                           'rollup_governance_cells', 'rollup_orphan_decisions', 'rollup_pending',
                           'outputs', 'decisions', 'governance_events'] LOOP
    EXECUTE format('ALTER POLICY rollup_maintainer ON hub.%I'
                   ' USING ((SELECT current_setting(''app.rollup_maintenance'', true)) = ''on'')', t);
  END LOOP;
END $$;

-- Sparse counts merged inline (keys ascending; NULL when both sides are NULL),
-- as hub.rollup_add_counts does, but evaluated as a subquery of the upsert.
-- Written out in each statement below: a SQL function with a SET clause is
-- never inlined.

CREATE OR REPLACE FUNCTION hub.rollup_fold_rows(rows hub.rollup_feed[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
  SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);

  -- 1. Millisecond counts per bin of day, week and month cells.
  INSERT INTO hub.rollup_bin_counts AS c (tenant_id, grain, employee_id, start, skill_id, bin, ms, ns)
  SELECT tenant_id, grain, '', start, skill_id, latency_ms / 128,
    array_agg(latency_ms ORDER BY latency_ms), array_agg(n ORDER BY latency_ms)
  FROM (
    SELECT b.tenant_id, g.grain, hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id, b.latency_ms,
      count(*) AS n
    FROM hub.rollup_rows(rows) b CROSS JOIN (VALUES ('d'::"char"), ('w'), ('m')) AS g(grain)
    WHERE b.kind = 'o' AND b.latency_ms IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
  ) x
  GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, grain, employee_id, start, skill_id, bin) DO UPDATE SET
    (ms, ns) = (SELECT array_agg(m.k ORDER BY m.k), array_agg(m.n ORDER BY m.k)
                FROM (SELECT e.k, sum(e.n)::bigint AS n
                      FROM (SELECT * FROM unnest(c.ms, c.ns) UNION ALL SELECT * FROM unnest(excluded.ms, excluded.ns))
                        AS e(k, n)
                      GROUP BY e.k) m);

  -- 2. The cells: sums; hour cells' millisecond counts; every cell's bin counts.
    WITH claimed AS (SELECT * FROM hub.rollup_rows(rows)),
    og AS MATERIALIZED (
      SELECT b.tenant_id, g.grain, CASE WHEN g.per_employee THEN b.employee_id ELSE '' END AS employee_id,
        hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id, b.tag, b.cost_usd,
        b.input_tokens, b.output_tokens, CASE WHEN g.per_employee THEN NULL ELSE b.latency_ms END AS latency_ms
      FROM claimed b
      CROSS JOIN (VALUES ('h'::"char", false), ('d', false), ('w', false), ('m', false), ('d', true))
        AS g(grain, per_employee)
      WHERE b.kind = 'o'
    ),
    lat AS (
      SELECT tenant_id, grain, employee_id, start, skill_id,
        array_agg(k ORDER BY k) AS ks, array_agg(n ORDER BY k) AS ns
      FROM (
        SELECT tenant_id, grain, employee_id, start, skill_id,
          CASE WHEN grain = 'h' THEN latency_ms ELSE latency_ms / 128 END AS k, count(*) AS n
        FROM og WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
      ) x GROUP BY 1, 2, 3, 4, 5
    ),
    -- Hour cells' counts per bin, beside their millisecond counts.
    hbin AS (
      SELECT tenant_id, grain, employee_id, start, skill_id,
        array_agg(k ORDER BY k) AS ks, array_agg(n ORDER BY k) AS ns
      FROM (
        SELECT tenant_id, grain, employee_id, start, skill_id, latency_ms / 128 AS k, count(*) AS n
        FROM og WHERE grain = 'h' AND latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
      ) x GROUP BY 1, 2, 3, 4, 5
    ),
    c1 AS (
      INSERT INTO hub.rollup_cells AS c
        (tenant_id, grain, employee_id, start, skill_id, invocations, failed, cost_usd, input_tokens, output_tokens,
         lat_ms, lat_ns, lat_bk, lat_bn)
      SELECT s.tenant_id, s.grain, s.employee_id, s.start, s.skill_id, s.invocations, s.failed, s.cost_usd,
        s.input_tokens, s.output_tokens,
        CASE WHEN s.grain = 'h' THEN l.ks END, CASE WHEN s.grain = 'h' THEN l.ns END,
        CASE WHEN s.grain <> 'h' THEN l.ks ELSE hb.ks END, CASE WHEN s.grain <> 'h' THEN l.ns ELSE hb.ns END
      FROM (
        SELECT tenant_id, grain, employee_id, start, skill_id, count(*) AS invocations,
          count(*) FILTER (WHERE tag <> 'SUCCEEDED') AS failed, sum(cost_usd) AS cost_usd,
          sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM og GROUP BY 1, 2, 3, 4, 5
      ) s LEFT JOIN lat l USING (tenant_id, grain, employee_id, start, skill_id)
      LEFT JOIN hbin hb USING (tenant_id, grain, employee_id, start, skill_id)
      ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (tenant_id, grain, employee_id, start, skill_id) DO UPDATE SET
        invocations = c.invocations + excluded.invocations, failed = c.failed + excluded.failed,
        cost_usd = c.cost_usd + excluded.cost_usd, input_tokens = c.input_tokens + excluded.input_tokens,
        output_tokens = c.output_tokens + excluded.output_tokens,
        (lat_ms, lat_ns) = (
          SELECT array_agg(m.k ORDER BY m.k), array_agg(m.n ORDER BY m.k)
          FROM (SELECT e.k, sum(e.n)::bigint AS n
                FROM (SELECT * FROM unnest(c.lat_ms, c.lat_ns)
                      UNION ALL SELECT * FROM unnest(excluded.lat_ms, excluded.lat_ns)) AS e(k, n)
                GROUP BY e.k) m),
        (lat_bk, lat_bn) = (
          SELECT array_agg(m.k ORDER BY m.k), array_agg(m.n ORDER BY m.k)
          FROM (SELECT e.k, sum(e.n)::bigint AS n
                FROM (SELECT * FROM unnest(c.lat_bk, c.lat_bn)
                      UNION ALL SELECT * FROM unnest(excluded.lat_bk, excluded.lat_bn)) AS e(k, n)
                GROUP BY e.k) m)
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
    )
    INSERT INTO hub.rollup_governance_cells AS c (tenant_id, grain, employee_id, start, severity, n)
    SELECT b.tenant_id, g.grain, b.employee_id, hub.rollup_cell_start(g.grain, b.created_at), b.tag, count(*)
    FROM claimed b CROSS JOIN (VALUES ('h'::"char"), ('d')) AS g(grain)
    WHERE b.kind = 'g' AND b.employee_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (tenant_id, grain, employee_id, start, severity) DO UPDATE SET n = c.n + excluded.n;

  -- 3. The touched all-employee cells' own p95 statistics, now that their
  -- counts include this batch (a later statement sees the upserts): lat_n
  -- the count, lat_a and lat_b the values at ranks lo = floor(95 (n - 1) /
  -- 100) and lo + 1 (0-based). The bins (every grain's lat_bk, lat_bn) locate
  -- the one or two bins holding those ranks; their milliseconds come from the
  -- hour cell's row or the bin's row of hub.rollup_bin_counts. One statement;
  -- each cell's work is a LATERAL subquery over its own row, every table is
  -- read by its full primary key and the row updated by its ctid, so the plan
  -- does not depend on the cells' statistics (on a fresh, never analysed database a join of the
  -- touched cells planned from estimates scanned every cell per touched one).
  UPDATE hub.rollup_cells c SET lat_n = s.n, lat_a = s.a, lat_b = s.b
  FROM (
    SELECT cell.ctid AS cell, tot.n, st.a, st.b
    FROM (
      SELECT DISTINCT b.tenant_id, g.grain, hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id
      FROM hub.rollup_rows(rows) b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w'), ('m')) AS g(grain)
      WHERE b.kind = 'o'
    ) t
    CROSS JOIN LATERAL (
      SELECT x.ctid, x.lat_ms, x.lat_ns, x.lat_bk, x.lat_bn FROM hub.rollup_cells x
      WHERE x.tenant_id = t.tenant_id AND x.grain = t.grain AND x.employee_id = '' AND x.start = t.start
        AND x.skill_id = t.skill_id
      -- Kept a subquery (not pulled up into a join the estimates would plan).
      LIMIT 1
    ) cell
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(k.v), 0)::bigint AS n, (95 * (coalesce(sum(k.v), 0)::bigint - 1)) / 100 AS lo
      FROM unnest(cell.lat_bn) AS k(v)
    ) tot
    CROSS JOIN LATERAL (
      -- Within the bins holding the ranks: each millisecond's running count
      -- is its bin's records before it plus the bin's counts up to it.
      SELECT min(f.m) FILTER (WHERE f.upto > tot.lo) AS a, min(f.m) FILTER (WHERE f.upto > tot.lo + 1) AS b
      FROM (
        SELECT e.m, tb.before + sum(e.c) OVER (PARTITION BY tb.bin ORDER BY e.m) AS upto
        FROM (
          SELECT w0.bin, w0.before FROM (
            SELECT x.bin, sum(x.c) OVER (ORDER BY x.bin) - x.c AS before, sum(x.c) OVER (ORDER BY x.bin) AS upto
            FROM unnest(cell.lat_bk, cell.lat_bn) AS x(bin, c)
          ) w0
          WHERE w0.upto > tot.lo AND w0.before <= tot.lo + 1
        ) tb
        CROSS JOIN LATERAL (
          SELECT h.m, h.c FROM unnest(cell.lat_ms, cell.lat_ns) AS h(m, c)
          WHERE t.grain = 'h' AND h.m / 128 = tb.bin
          UNION ALL
          SELECT d.m, d.c FROM hub.rollup_bin_counts bc CROSS JOIN LATERAL unnest(bc.ms, bc.ns) AS d(m, c)
          WHERE t.grain <> 'h' AND bc.tenant_id = t.tenant_id AND bc.grain = t.grain AND bc.employee_id = ''
            AND bc.start = t.start AND bc.skill_id = t.skill_id AND bc.bin = tb.bin
        ) e
      ) f
    ) st
  ) s
  -- The row just read (folds take turns: nothing else updates it meanwhile).
  WHERE c.ctid = s.cell;
END $$;

-- The consumer, as in preagg.sql, claiming in the order of the feed's one
-- index (tenant, kind, created_at) and deleting by ctid.
CREATE OR REPLACE FUNCTION hub.rollup_fold(max_rows integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
  SET plan_cache_mode = force_custom_plan AS $$
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
    -- A locked row keeps its ctid until this transaction ends (feed rows are
    -- never updated), so the DELETE removes exactly the rows claimed.
    WITH claimed AS (
      DELETE FROM hub.rollup_feed f WHERE f.ctid = ANY (ARRAY(
        SELECT ctid FROM hub.rollup_feed
        WHERE tenant_id NOT IN (SELECT tenant_id FROM hub.rollup_pending)
        ORDER BY tenant_id, kind, created_at LIMIT max_rows FOR UPDATE SKIP LOCKED))
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

-- The backfill step, as in preagg-backfill-steps.sql, building feed-shaped
-- rows without the identity column.
CREATE OR REPLACE FUNCTION hub.rollup_backfill(days integer, max_records integer)
RETURNS TABLE (tenant_name text, reached_at timestamptz, ends_at_out timestamptz, finished boolean,
               folded integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
  SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  p hub.rollup_pending%ROWTYPE;
  step_end timestamptz;
  next_at timestamptz;
  batch hub.rollup_feed[];
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
  SELECT array_agg(r::hub.rollup_feed) INTO batch FROM (
    SELECT o.tenant_id, 'o'::"char", o.record_id, o.created_at, o.skill_id, o.employee_id, o.status,
      o.cost_usd, o.input_tokens, o.output_tokens, o.latency_ms, NULL::uuid
    FROM hub.outputs o
    WHERE o.tenant_id = p.tenant_id AND o.created_at >= p.folded_until AND o.created_at < step_end
      AND NOT EXISTS (SELECT 1 FROM hub.rollup_feed f
                      WHERE f.tenant_id = p.tenant_id AND f.kind = 'o' AND f.record_id = o.record_id)
    UNION ALL
    SELECT d.tenant_id, 'd', d.record_id, d.created_at, NULL, o.employee_id, d.outcome,
      NULL, NULL, NULL, NULL, d.output_id
    FROM hub.decisions d LEFT JOIN hub.outputs o ON o.tenant_id = d.tenant_id AND o.record_id = d.output_id
    WHERE d.tenant_id = p.tenant_id AND d.created_at >= p.folded_until AND d.created_at < step_end
      AND NOT EXISTS (SELECT 1 FROM hub.rollup_feed f
                      WHERE f.tenant_id = p.tenant_id AND f.kind = 'd' AND f.record_id = d.record_id)
    UNION ALL
    SELECT g.tenant_id, 'g', g.record_id, g.created_at, NULL, g.employee_id, g.severity,
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
  RETURN QUERY SELECT p.tenant_id::text, step_end, p.ends_at, step_end >= p.ends_at,
    coalesce(cardinality(batch), 0);
END $$;
