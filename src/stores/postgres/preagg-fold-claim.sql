-- Claims read the feed's index, not the whole feed (migration: see migrations.ts).
--
-- The consumer's claim (FOR UPDATE SKIP LOCKED, oldest first in the order of
-- the feed's one index) was planned from the policy and pending-tenant
-- filters' default selectivities: a few hundred rows expected whatever the
-- feed held, so a sequential scan and a sort of the whole feed looked cheaper
-- than the index. Under a backlog that is every unfolded row per claim: with
-- 195,000 rows in the feed the claim of 5,000 took 1.2 s of a 2.6 s fold.
-- hub.rollup_claim is the same statement with sorts disabled for it alone, so
-- it walks the index from its start and stops after max_rows rows (locked
-- rows skipped). Same rows claimed, same order; the fold is unchanged.

CREATE FUNCTION hub.rollup_claim(max_rows integer) RETURNS hub.rollup_feed[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_sort = off
  SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  batch hub.rollup_feed[];
BEGIN
  -- Opens the rollup_maintainer policies (to the owner only) for this transaction.
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  -- A locked row keeps its ctid until this transaction ends (feed rows are
  -- never updated), so the DELETE removes exactly the rows claimed.
  WITH claimed AS (
    DELETE FROM hub.rollup_feed f WHERE f.ctid = ANY (ARRAY(
      SELECT ctid FROM hub.rollup_feed
      WHERE tenant_id NOT IN (SELECT tenant_id FROM hub.rollup_pending)
      ORDER BY tenant_id, kind, created_at LIMIT max_rows FOR UPDATE SKIP LOCKED))
    RETURNING f.*
  )
  SELECT array_agg(claimed) INTO batch FROM claimed;
  RETURN batch;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_claim(integer) FROM PUBLIC;

-- The consumer, as in preagg-ingest.sql, claiming through hub.rollup_claim.
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
