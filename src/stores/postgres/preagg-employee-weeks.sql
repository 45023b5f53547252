-- Per-employee week cells (migration: see migrations.ts).
--
-- A team-scoped range reads per-employee output cells, which were days
-- only: the manager dashboard's 30 days were 30 cells per member and skill
-- (7,200 rows for a team of 20 on a ten-million-output tenant). Weeks (from
-- Monday, like the all-employee week cells) make them about four week cells
-- and the few days at each edge, added or subtracted (postgres-preagg-plan.ts).
--
-- Existing tenants get their week cells now, summed from their per-employee
-- day cells (exact: sums of integers and numerics; no refold). The fold
-- lock is held meanwhile, so no fold or backfill step changes day cells
-- between this sum and the new fold function below, which keeps both from
-- then on (one more cell per output). A tenant still waiting for its
-- backfill gets the week cells of what is folded so far, and its remaining
-- steps fold into both.

SELECT set_config('app.rollup_maintenance', 'on', true);
SELECT pg_advisory_xact_lock(7262584914);
SET LOCAL work_mem = '256MB';

INSERT INTO hub.rollup_cells AS c
  (tenant_id, grain, employee_id, start, skill_id, invocations, failed, cost_usd, input_tokens, output_tokens)
SELECT tenant_id, 'w', employee_id, date_bin('7 days', start, timestamptz '2001-01-01 00:00:00+00'), skill_id,
  sum(invocations), sum(failed), sum(cost_usd), sum(input_tokens), sum(output_tokens)
FROM hub.rollup_cells
WHERE grain = 'd' AND employee_id <> ''
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
-- None exist before this migration; set from the days all the same (the
-- days alone define them), so running it again changes nothing.
ON CONFLICT (tenant_id, grain, employee_id, start, skill_id) DO UPDATE SET
  invocations = excluded.invocations, failed = excluded.failed, cost_usd = excluded.cost_usd,
  input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens;

-- As in preagg-ingest.sql (migration 13; migration 14 left it as it was),
-- with per-employee week cells (('w', true) in the output grains); nothing
-- else changed.
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
      CROSS JOIN (VALUES ('h'::"char", false), ('d', false), ('w', false), ('m', false), ('d', true), ('w', true))
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
      FROM claimed b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w')) AS g(grain)
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
    FROM claimed b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w')) AS g(grain)
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
