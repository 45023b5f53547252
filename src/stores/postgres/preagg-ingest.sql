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
--    all touched all-employee cells in ONE statement (window sums over every
--    touched cell's bins, then the milliseconds of the bins holding the two
--    ranks) instead of one SQL function call per cell, which was 40-65% of a
--    fold. Same values: a test compares every cell's statistics with
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
  -- counts include this batch (a later statement sees the upserts), for all
  -- of them at once: lat_n the count, lat_a and lat_b the values at ranks
  -- lo = floor(95 (n - 1) / 100) and lo + 1 (0-based). The bins (every
  -- grain's lat_bk, lat_bn) locate the one or two bins holding those ranks;
  -- their milliseconds come from the hour cell's row or the bin's row of
  -- hub.rollup_bin_counts. Cells are numbered (cid) so windows partition by
  -- one integer.
  WITH t AS (
    SELECT DISTINCT b.tenant_id, g.grain, hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id
    FROM hub.rollup_rows(rows) b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w'), ('m')) AS g(grain)
    WHERE b.kind = 'o'
  ),
  tc AS MATERIALIZED (
    SELECT row_number() OVER () AS cid, c.tenant_id, c.grain, c.start, c.skill_id, c.lat_ms, c.lat_ns,
      c.lat_bk, c.lat_bn, coalesce((SELECT sum(x)::bigint FROM unnest(c.lat_bn) AS x), 0) AS total
    FROM t JOIN hub.rollup_cells c
      ON c.tenant_id = t.tenant_id AND c.grain = t.grain AND c.employee_id = '' AND c.start = t.start
     AND c.skill_id = t.skill_id
  ),
  bins AS (
    SELECT tc.cid, x.bin, x.c, sum(x.c) OVER (PARTITION BY tc.cid ORDER BY x.bin) AS upto,
      (95 * (tc.total - 1)) / 100 AS lo
    FROM tc CROSS JOIN LATERAL unnest(tc.lat_bk, tc.lat_bn) AS x(bin, c)
  ),
  tb AS MATERIALIZED (
    SELECT bins.cid, bins.bin, bins.upto - bins.c AS before, bins.lo FROM bins
    WHERE bins.upto > bins.lo AND bins.upto - bins.c <= bins.lo + 1
  ),
  ms AS (
    SELECT tb.cid, tb.lo, tb.before, e.m, e.c
    FROM tb JOIN tc ON tc.cid = tb.cid AND tc.grain = 'h'
    CROSS JOIN LATERAL unnest(tc.lat_ms, tc.lat_ns) AS e(m, c)
    WHERE e.m / 128 = tb.bin
    UNION ALL
    SELECT tb.cid, tb.lo, tb.before, e.m, e.c
    FROM tb JOIN tc ON tc.cid = tb.cid AND tc.grain <> 'h'
    JOIN hub.rollup_bin_counts x
      ON x.tenant_id = tc.tenant_id AND x.grain = tc.grain AND x.employee_id = '' AND x.start = tc.start
     AND x.skill_id = tc.skill_id AND x.bin = tb.bin
    CROSS JOIN LATERAL unnest(x.ms, x.ns) AS e(m, c)
  ),
  f AS (
    SELECT ms.cid, ms.lo, ms.m,
      min(ms.before) OVER (PARTITION BY ms.cid) + sum(ms.c) OVER (PARTITION BY ms.cid ORDER BY ms.m) AS upto
    FROM ms
  ),
  p AS (
    SELECT f.cid, min(f.m) FILTER (WHERE f.upto > f.lo) AS a, min(f.m) FILTER (WHERE f.upto > f.lo + 1) AS b
    FROM f GROUP BY f.cid
  )
  UPDATE hub.rollup_cells c SET lat_n = tc.total, lat_a = p.a, lat_b = p.b
  FROM tc LEFT JOIN p ON p.cid = tc.cid
  WHERE c.tenant_id = tc.tenant_id AND c.grain = tc.grain AND c.employee_id = '' AND c.start = tc.start
    AND c.skill_id = tc.skill_id;
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
