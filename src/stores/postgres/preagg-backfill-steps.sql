-- Backfill steps bounded by records, folds planned for the tables as they are
-- (migration: see migrations.ts).
--
-- 1. A backfill step folded a fixed span of days (a week from `hub db
--    migrate`): on a tenant of ten million outputs a week is ~190,000 outputs
--    with their decisions and events, and a step outlasted the default 30 s
--    statement timeout on a loaded machine. A step now also ends before the
--    (max_records + 1)-th record of any of the three tables at or after its
--    position, so its work is bounded whatever the tenant's density; it
--    returns how many records it folded (progress in records, not only time).
-- 2. The fold functions' statements were planned once per session and kept:
--    a backfill that starts on empty cells (a new database, or the cells
--    migration 0007 emptied) kept plans made for empty tables, and on the
--    1,000,000-output bench tenant a week's step took ~7 s instead of ~0.1-1 s
--    in a fresh session. Their statements are now planned at every call
--    (plan_cache_mode = force_custom_plan; a few milliseconds of planning
--    against a fold of thousands of rows).

SELECT set_config('app.rollup_maintenance', 'on', true);

DROP FUNCTION hub.rollup_backfill(integer);

-- One backfill step: takes a pending tenant no other step holds, folds its
-- records with created_at in [position, step end) that are not in the feed
-- (those are folded by the consumer once the tenant is ready), and advances
-- the position; past the end fixed at the first step the tenant is ready.
-- The step ends `days` days after the position, or earlier so that it reads
-- at most about `max_records` records of each of outputs, decisions and
-- governance events (more only when that many share one instant). Each step
-- is one transaction: a backfill stopped anywhere resumes at its position.
-- Returns the tenant, its position and end, whether it is done, and the
-- records folded (no row when no tenant is pending).
CREATE FUNCTION hub.rollup_backfill(days integer, max_records integer)
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
  RETURN QUERY SELECT p.tenant_id::text, step_end, p.ends_at, step_end >= p.ends_at,
    coalesce(cardinality(batch), 0);
END $$;
REVOKE ALL ON FUNCTION hub.rollup_backfill(integer, integer) FROM PUBLIC;

ALTER FUNCTION hub.rollup_fold_rows(hub.rollup_feed[]) SET plan_cache_mode = force_custom_plan;
ALTER FUNCTION hub.rollup_fold(integer) SET plan_cache_mode = force_custom_plan;
