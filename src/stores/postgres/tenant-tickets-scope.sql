-- Migration 0009: tenant policies shaped as before tickets, one sub-select each.
--
-- Since 0002 the tenant policies read
--   tenant_id = (SELECT app.tenant_id) AND (SELECT app.tenant_id) = (SELECT hub.verified_tenant())
-- The second conjunct compares two InitPlan results, which the planner cannot
-- evaluate, so it estimates it as an equality of unknowns (0.5% of the rows).
-- Believing a tenant's rows 200 times fewer than they are, it planned a list
-- page (custom plans, which the store's list statements get) as a bitmap
-- scan and a sort of all the skill's rows instead of reading the index in
-- page order: 10 times the instructions for a page of 50 among 1,700 rows
-- (callgrind, README "What tickets cost"). And three InitPlans were planned
-- with every custom plan.
--
-- Now every tenant policy is `tenant_id = (SELECT hub.scoped_tenant())`: the
-- shape, and so the row estimates and plans, of the policy before tickets,
-- one InitPlan per statement. hub.scoped_tenant() returns app.tenant_id when
-- the transaction's ticket (app.tenant_ticket) is valid and signed for that
-- very tenant, else NULL (no row). The RLS stays keyed on app.tenant_id; the
-- ticket decides only whether that setting counts. Its checks are those of
-- hub_private.verify_ticket (the reference, still used by hub.purge_tenant
-- and hub.relay_verified), in one PL/pgSQL function calling no other.
CREATE FUNCTION hub.scoped_tenant() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ticket text := current_setting('app.tenant_ticket', true);
  scope text := current_setting('app.tenant_id', true);
  parts text[];
  k record;
BEGIN
  IF ticket IS NULL OR scope IS NULL OR scope = '' OR length(ticket) > 256 THEN RETURN NULL; END IF;
  parts := string_to_array(ticket, '.');
  IF coalesce(array_length(parts, 1), 0) <> 6 THEN RETURN NULL; END IF;
  -- Six fields, none NULL (an empty field is ''): no comparison below is NULL.
  IF parts[1] <> 'v1' OR parts[4] <> 't' OR parts[5] <> scope
     OR length(parts[3]) NOT BETWEEN 1 AND 12 OR ltrim(parts[3], '0123456789') <> '' THEN
    RETURN NULL;
  END IF;
  IF parts[3]::bigint <= extract(epoch FROM now()) THEN RETURN NULL; END IF;
  SELECT inner_pad, outer_pad INTO k FROM hub_private.ticket_keys WHERE kid = parts[2];
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(
       parts[1] || '.' || parts[2] || '.' || parts[3] || '.' || parts[4] || '.' || parts[5], 'UTF8'))),
       'hex') <> parts[6] THEN
    RETURN NULL;
  END IF;
  RETURN scope;
END $$;
REVOKE ALL ON FUNCTION hub.scoped_tenant() FROM PUBLIC;

-- Every tenant policy of the schema (records, outbox, usage minutes,
-- pre-aggregates), whichever tables earlier migrations gave one. A new table
-- holding tenant rows takes the same policy.
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT tablename, cmd FROM pg_policies
           WHERE schemaname = 'hub' AND policyname = 'tenant_isolation' LOOP
    IF p.cmd = 'INSERT' THEN        -- the outbox: a tenant adds entries of its own tenant only
      EXECUTE format('ALTER POLICY tenant_isolation ON hub.%I'
                     ' WITH CHECK (tenant_id = (SELECT hub.scoped_tenant()))', p.tablename);
    ELSIF p.cmd = 'SELECT' THEN     -- pre-aggregates: read by the tenant, written by definer functions
      EXECUTE format('ALTER POLICY tenant_isolation ON hub.%I'
                     ' USING (tenant_id = (SELECT hub.scoped_tenant()))', p.tablename);
    ELSE
      EXECUTE format('ALTER POLICY tenant_isolation ON hub.%I'
                     ' USING (tenant_id = (SELECT hub.scoped_tenant()))'
                     ' WITH CHECK (tenant_id = (SELECT hub.scoped_tenant()))', p.tablename);
    END IF;
  END LOOP;
END $$;
