-- Migration 20: the rollup data version in one statement, its ticket checked once.
--
-- A cached rollup (docs/rollup-cache.md) costs the gateway one version read per
-- request. Until now that read was a scoped transaction like any other (BEGIN,
-- set_config of app.tenant_id and its ticket, the SELECT, COMMIT) whose SELECT
-- verified the ticket twice, once in the RLS policy of each table it reads
-- (hub.rollup_versions, hub.rollup_feed_batches): four statements and two
-- HMACs for three numbers.
--
-- hub.rollup_version(tenant, ticket) is the same read as one statement outside
-- any transaction block: it verifies the ticket it is given exactly as
-- hub.scoped_tenant() verifies app.tenant_ticket against app.tenant_id
-- (tenant-tickets-lean.sql: a `t` ticket, unexpired, signed for that very
-- tenant under an installed key), once, and returns NULL for any other ticket
-- (no version: the gateway then computes the rollup as without a cache; the
-- rollup's own statement still meets the policies). Then, as the owner, with
-- the owner's maintenance policies open for this read only (app.rollup_maintenance
-- is put back as it was before the function returns; a SET clause would do it
-- too, but only a superuser may create a function setting a placeholder), it
-- reads the tenant's epoch, its count of
-- feed rows and the latest migration: the same three values, in the calling
-- statement's snapshot (a STABLE function takes no snapshot of its own), so
-- the contract of migration 17 (preagg-versions.sql) holds unchanged.
--
-- It gives out nothing but the version of the tenant the ticket was signed
-- for: a role without that ticket (the application role's credentials stolen,
-- or a scope of tenant B asking for A) gets NULL.
CREATE FUNCTION hub.rollup_version(tenant text, ticket text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p text[] := string_to_array(ticket, '.');
  k record;
  maintenance text := current_setting('app.rollup_maintenance', true);
  v text;
BEGIN
  -- The checks of hub.scoped_tenant() (tenant-tickets-lean.sql), with the
  -- arguments in place of app.tenant_id and app.tenant_ticket.
  IF coalesce(cardinality(p) <> 6 OR p[1] <> 'v1' OR p[4] <> 't'
              OR p[5] <> tenant OR tenant = '' OR length(p[3]) NOT BETWEEN 1 AND 12
              OR ltrim(p[3], '0123456789') <> '', true) THEN
    RETURN NULL;
  END IF;
  IF p[3]::bigint <= extract(epoch FROM now()) THEN RETURN NULL; END IF;
  SELECT inner_pad, outer_pad INTO k FROM hub_private.ticket_keys WHERE kid = p[2];
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(array_to_string(p[1:5], '.'), 'UTF8'))),
            'hex') <> p[6] THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  v := concat_ws(':', coalesce((SELECT epoch FROM hub.rollup_versions WHERE tenant_id = tenant), 0),
    (SELECT count(*) FROM hub.rollup_feed_batches WHERE tenant_id = tenant),
    (SELECT max(version) FROM hub.schema_migrations));
  -- Closed again for the caller (an error instead rolls the setting back with the transaction).
  PERFORM set_config('app.rollup_maintenance', coalesce(maintenance, ''), true);
  RETURN v;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_version(text, text) FROM PUBLIC;
