-- Bin counts in hour cells too (migration: see migrations.ts).
--
-- A bucket that is not one whole cell finds its p95 by adding its pieces'
-- counts per 128 ms bin, then reads the millisecond counts of the one or two
-- bins holding the order statistics. Hour cells had only their millisecond
-- counts (lat_ms, lat_ns), so each added every distinct millisecond value:
-- about 95 per cell on a ten-million-output tenant, 24.6 k of the 25.3 k rows
-- a 30-day rollup cut by a UTC offset grouped. Hour cells now also carry their
-- counts per bin (lat_bk, lat_bn, ~20 pairs), derived here from the
-- millisecond arrays (no refold) and kept by the fold like the other grains'.

SELECT set_config('app.rollup_maintenance', 'on', true);

UPDATE hub.rollup_cells c SET (lat_bk, lat_bn) = (
  SELECT array_agg(b.bin ORDER BY b.bin), array_agg(b.n ORDER BY b.bin)
  FROM (SELECT e.m / 128 AS bin, sum(e.c)::bigint AS n FROM unnest(c.lat_ms, c.lat_ns) AS e(m, c) GROUP BY 1) b)
WHERE c.grain = 'h' AND c.lat_ms IS NOT NULL;

-- As in preagg-fold-estimates.sql, with the hour cells' bins.
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
    (ms, ns) = (SELECT m.k, m.n FROM hub.rollup_add_counts(c.ms, c.ns, excluded.ms, excluded.ns) m);

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
        (lat_ms, lat_ns) = (SELECT m.k, m.n FROM hub.rollup_add_counts(c.lat_ms, c.lat_ns, excluded.lat_ms, excluded.lat_ns) m),
        (lat_bk, lat_bn) = (SELECT m.k, m.n FROM hub.rollup_add_counts(c.lat_bk, c.lat_bn, excluded.lat_bk, excluded.lat_bn) m)
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
  -- counts include this batch (a later statement sees the upserts).
  UPDATE hub.rollup_cells c SET (lat_n, lat_a, lat_b) = (
    SELECT p.n, p.a, p.b FROM hub.rollup_counts_p95(c.lat_ms, c.lat_ns) p WHERE c.grain = 'h'
    UNION ALL
    SELECT p.n, p.a, p.b FROM hub.rollup_cell_p95(c.tenant_id, c.grain, c.start, c.skill_id, c.lat_bk, c.lat_bn) p
    WHERE c.grain <> 'h')
  FROM (
    SELECT DISTINCT b.tenant_id, g.grain, hub.rollup_cell_start(g.grain, b.created_at) AS start, b.skill_id
    FROM hub.rollup_rows(rows) b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w'), ('m')) AS g(grain)
    WHERE b.kind = 'o'
  ) t
  WHERE c.tenant_id = t.tenant_id AND c.grain = t.grain AND c.employee_id = '' AND c.start = t.start
    AND c.skill_id = t.skill_id;
END $$;
