-- The maintainer policies of migration 3 named the owner inside their USING
-- expression, so they applied to every role and were OR'd with the tenant
-- policy: for the application role the planner then read a tenant's list page
-- with a sequential scan and a sort instead of from its index. Bound to the
-- owner role with TO, they keep exactly their meaning for the owner's definer
-- functions and no longer apply to the application role at all.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['rollup_feed', 'rollup_cells', 'rollup_latency_bins', 'rollup_latencies',
                           'rollup_decision_cells', 'rollup_governance_cells',
                           'rollup_orphan_decisions', 'rollup_pending'] LOOP
    EXECUTE format('DROP POLICY rollup_maintainer ON hub.%I', t);
    EXECUTE format('CREATE POLICY rollup_maintainer ON hub.%I TO %I'
                   ' USING (current_setting(''app.rollup_maintenance'', true) = ''on'')', t, current_user);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['outputs', 'decisions', 'governance_events'] LOOP
    EXECUTE format('DROP POLICY rollup_maintainer ON hub.%I', t);
    EXECUTE format('CREATE POLICY rollup_maintainer ON hub.%I FOR SELECT TO %I'
                   ' USING (current_setting(''app.rollup_maintenance'', true) = ''on'')', t, current_user);
  END LOOP;
END $$;
