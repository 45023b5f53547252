-- Pre-aggregates that are cheaper to keep and to read (migration: see migrations.ts).
--
-- Latency stays exact (counts per integer millisecond), stored where it compresses:
-- * Only cells of all employees of a skill (grains h, d, w, m) count
--   latencies. Per employee a cell holds a handful of records, so counts
--   there were as many rows as the records; team-scoped percentiles read the
--   team's records (an index range per member). Per-employee output cells
--   keep the day grain only (a team-scoped range's partial days are read raw).
-- * An hour cell holds its counts in the cell row: lat_ms (sorted distinct
--   values) and lat_ns (their counts), about a hundred pairs.
-- * A day, week or month cell holds its counts per 128 ms bin in the cell row
--   (lat_bk bins, lat_bn counts) and each bin's millisecond counts in ONE row
--   of hub.rollup_bin_counts (ms, ns arrays): a percentile finds its bin from
--   the cell row, then reads one small row per cell. (Before: one row per
--   cell and millisecond, as many rows as records at ten million outputs.)
-- * Every all-employee cell carries the p95 order statistics of its own
--   latencies (lat_n; lat_a, lat_b: the values at ranks floor(95 (n - 1) / 100)
--   and the next), recomputed by each fold that touches it: a bucket made of
--   ONE whole cell and nothing else reads its p95 from that row.
--
-- The cells are rebuilt: existing ones are emptied and every tenant with
-- records waits for the (resumable) backfill again, like a tenant that
-- predates the feed; until then its rollups are computed from the records.

SELECT set_config('app.rollup_maintenance', 'on', true);

DROP TABLE hub.rollup_latencies;
DROP TABLE hub.rollup_latency_bins;
TRUNCATE hub.rollup_cells, hub.rollup_decision_cells, hub.rollup_governance_cells, hub.rollup_orphan_decisions;

ALTER TABLE hub.rollup_cells
  ADD COLUMN lat_n bigint,
  ADD COLUMN lat_a bigint,
  ADD COLUMN lat_b bigint,
  ADD COLUMN lat_ms bigint[],
  ADD COLUMN lat_ns bigint[],
  ADD COLUMN lat_bk bigint[],
  ADD COLUMN lat_bn bigint[];

CREATE TABLE hub.rollup_bin_counts (
  tenant_id   text COLLATE "C" NOT NULL,
  grain       "char" NOT NULL,
  employee_id text COLLATE "C" NOT NULL,
  start       timestamptz NOT NULL,
  skill_id    text COLLATE "C" NOT NULL,
  bin         bigint NOT NULL,
  ms          bigint[] NOT NULL,
  ns          bigint[] NOT NULL,
  PRIMARY KEY (tenant_id, grain, employee_id, start, skill_id, bin)
);
ALTER TABLE hub.rollup_bin_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE hub.rollup_bin_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hub.rollup_bin_counts FOR SELECT
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true))
         AND (SELECT current_setting('app.tenant_id', true)) = (SELECT hub.verified_tenant()));
DO $$ BEGIN
  EXECUTE format('CREATE POLICY rollup_maintainer ON hub.rollup_bin_counts TO %I'
                 ' USING (current_setting(''app.rollup_maintenance'', true) = ''on'')', current_user);
END $$;

-- Sparse counts (keys k, counts n; keys ascending) added together. NULL when
-- both are NULL (cells without latency counts stay without).
CREATE FUNCTION hub.rollup_add_counts(ak bigint[], an bigint[], bk bigint[], bn bigint[],
                                      OUT k bigint[], OUT n bigint[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT array_agg(x.k ORDER BY x.k), array_agg(x.n ORDER BY x.k)
  FROM (SELECT e.k, sum(e.n)::bigint AS n
        FROM (SELECT * FROM unnest(ak, an) UNION ALL SELECT * FROM unnest(bk, bn)) AS e(k, n)
        GROUP BY e.k) x
$$;

-- The p95 order statistics of sparse millisecond counts.
CREATE FUNCTION hub.rollup_counts_p95(ms bigint[], ns bigint[], OUT n bigint, OUT a bigint, OUT b bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  WITH e AS (SELECT x.m, sum(x.c) OVER (ORDER BY x.m) AS upto, sum(x.c) OVER () AS total
             FROM unnest(ms, ns) AS x(m, c)),
  r AS (SELECT coalesce(max(total), 0)::bigint AS total, (95 * (coalesce(max(total), 0)::bigint - 1)) / 100 AS lo FROM e)
  SELECT r.total, (SELECT min(m) FROM e WHERE e.upto > r.lo), (SELECT min(m) FROM e WHERE e.upto > r.lo + 1)
  FROM r
$$;

-- The p95 order statistics of a day, week or month cell: its bins locate the
-- one or two bins holding the two ranks, whose rows give the milliseconds.
CREATE FUNCTION hub.rollup_cell_p95(t text, g "char", s timestamptz, k text, bk bigint[], bn bigint[],
                                    OUT n bigint, OUT a bigint, OUT b bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH bins AS (SELECT x.bin, x.c, sum(x.c) OVER (ORDER BY x.bin) AS upto, sum(x.c) OVER () AS total
                FROM unnest(bk, bn) AS x(bin, c)),
  r AS (SELECT coalesce(max(total), 0)::bigint AS total, (95 * (coalesce(max(total), 0)::bigint - 1)) / 100 AS lo
        FROM bins),
  tb AS (SELECT bins.bin, bins.upto - bins.c AS before FROM bins, r
         WHERE bins.upto > r.lo AND bins.upto - bins.c <= r.lo + 1),
  f AS (SELECT e.m, (SELECT min(before) FROM tb) + sum(e.c) OVER (ORDER BY e.m) AS upto
        FROM tb JOIN hub.rollup_bin_counts x
          ON x.tenant_id = t AND x.grain = g AND x.employee_id = '' AND x.start = s AND x.skill_id = k
         AND x.bin = tb.bin
        CROSS JOIN LATERAL unnest(x.ms, x.ns) AS e(m, c))
  SELECT r.total, (SELECT min(m) FROM f WHERE f.upto > r.lo), (SELECT min(m) FROM f WHERE f.upto > r.lo + 1)
  FROM r
$$;

REVOKE ALL ON FUNCTION hub.rollup_add_counts(bigint[], bigint[], bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION hub.rollup_counts_p95(bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION hub.rollup_cell_p95(text, "char", timestamptz, text, bigint[], bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION hub.rollup_fold_rows(rows hub.rollup_feed[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    FROM unnest(rows) b CROSS JOIN (VALUES ('d'::"char"), ('w'), ('m')) AS g(grain)
    WHERE b.kind = 'o' AND b.latency_ms IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
  ) x
  GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, grain, employee_id, start, skill_id, bin) DO UPDATE SET
    (ms, ns) = (SELECT m.k, m.n FROM hub.rollup_add_counts(c.ms, c.ns, excluded.ms, excluded.ns) m);

  -- 2. The cells: sums; hour cells' millisecond counts, other cells' bin counts.
    WITH claimed AS (SELECT * FROM unnest(rows)),
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
    c1 AS (
      INSERT INTO hub.rollup_cells AS c
        (tenant_id, grain, employee_id, start, skill_id, invocations, failed, cost_usd, input_tokens, output_tokens,
         lat_ms, lat_ns, lat_bk, lat_bn)
      SELECT s.tenant_id, s.grain, s.employee_id, s.start, s.skill_id, s.invocations, s.failed, s.cost_usd,
        s.input_tokens, s.output_tokens,
        CASE WHEN s.grain = 'h' THEN l.ks END, CASE WHEN s.grain = 'h' THEN l.ns END,
        CASE WHEN s.grain <> 'h' THEN l.ks END, CASE WHEN s.grain <> 'h' THEN l.ns END
      FROM (
        SELECT tenant_id, grain, employee_id, start, skill_id, count(*) AS invocations,
          count(*) FILTER (WHERE tag <> 'SUCCEEDED') AS failed, sum(cost_usd) AS cost_usd,
          sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM og GROUP BY 1, 2, 3, 4, 5
      ) s LEFT JOIN lat l USING (tenant_id, grain, employee_id, start, skill_id)
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
    FROM unnest(rows) b CROSS JOIN (VALUES ('h'::"char"), ('d'), ('w'), ('m')) AS g(grain)
    WHERE b.kind = 'o'
  ) t
  WHERE c.tenant_id = t.tenant_id AND c.grain = t.grain AND c.employee_id = '' AND c.start = t.start
    AND c.skill_id = t.skill_id;
END $$;

-- As in preagg.sql, with the counts' new table.
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
  DELETE FROM hub.rollup_feed WHERE tenant_id = t;
  DELETE FROM hub.rollup_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_bin_counts WHERE tenant_id = t;
  DELETE FROM hub.rollup_decision_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_governance_cells WHERE tenant_id = t;
  DELETE FROM hub.rollup_orphan_decisions WHERE tenant_id = t;
  DELETE FROM hub.rollup_pending WHERE tenant_id = t;
END $$;

-- Every tenant with records is backfilled again (into the emptied cells).
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
UNION SELECT id FROM g WHERE id IS NOT NULL
ON CONFLICT (tenant_id) DO UPDATE SET folded_until = NULL, ends_at = NULL;

-- A fold or backfill step groups and sorts a whole batch (up to 100,000 feed
-- rows, or a week of a tenant's records): in memory rather than in
-- temporary files at the server's default work_mem.
ALTER FUNCTION hub.rollup_fold(integer) SET work_mem = '64MB';
ALTER FUNCTION hub.rollup_backfill(integer) SET work_mem = '64MB';
ALTER FUNCTION hub.rollup_fold_rows(hub.rollup_feed[]) SET work_mem = '64MB';
