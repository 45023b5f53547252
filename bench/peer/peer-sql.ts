/**
 * SQL the benchmark adds to the database for PostGraphile (run as the owner
 * after loading). PostGraphile has no cost-per-skill rollup, so it gets the
 * equivalent as a STABLE SQL function exposed as the query field
 * `costPerSkill`; the decisions -> outputs relation is declared with a smart
 * comment (a virtual foreign key: the Hub schema has no FK because records are
 * immutable and a decision may arrive before its output).
 */

/**
 * Same semantics as our store's costPerSkill (postgres-rollups.ts plus the
 * exact finishing in TypeScript), done entirely in SQL: exact numeric sums,
 * the average rounded half away from zero to 6 places with integer
 * arithmetic on micro-dollars, and the continuous 95th percentile of
 * latencies from the two order statistics with exact numeric interpolation,
 * rounded half away from zero to one place.
 */
export const PEER_SETUP_SQL = `
CREATE TYPE hub.cost_per_skill_row AS (
  skill_id text, bucket_start timestamptz, invocations int, failed int,
  total_cost_usd numeric, avg_cost_usd numeric, input_tokens bigint, output_tokens bigint,
  p95_latency_ms numeric
);
CREATE FUNCTION hub.cost_per_skill(range_start timestamptz, range_end timestamptz, bucket text)
RETURNS SETOF hub.cost_per_skill_row LANGUAGE sql STABLE AS $fn$
  WITH g AS (
    SELECT skill_id, date_trunc(bucket, created_at, 'UTC') AS bucket_start,
      count(*) AS n,
      count(*) FILTER (WHERE status <> 'SUCCEEDED') AS failed,
      sum(cost_usd) AS total,
      sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens,
      array_agg(latency_ms ORDER BY latency_ms) FILTER (WHERE latency_ms IS NOT NULL) AS lat
    FROM hub.outputs
    WHERE tenant_id = current_setting('app.tenant_id', true)
      AND created_at >= range_start AND created_at < range_end
    GROUP BY 1, 2
  ), s AS (
    SELECT g.*, cardinality(lat) AS c, (95 * (cardinality(lat) - 1)) / 100 + 1 AS i,
      (95 * (cardinality(lat) - 1)) % 100 AS frac
    FROM g
  )
  SELECT skill_id, bucket_start, n::int, failed::int, total,
    (div(total * 2000000 + n, 2 * n) / 1000000)::numeric(20,6),
    input_tokens, output_tokens,
    CASE WHEN c > 0 THEN round(
      lat[i]::numeric + CASE WHEN frac = 0 THEN 0 ELSE (lat[i + 1] - lat[i])::numeric * frac / 100 END, 1)
    END
  FROM s ORDER BY bucket_start, skill_id
$fn$;
COMMENT ON TABLE hub.decisions IS E'@foreignKey (tenant_id, output_id) references hub.outputs (tenant_id, record_id)|@fieldName output|@foreignFieldName decisions';
`;
