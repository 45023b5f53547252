-- Migration 0006: the tenant ticket verified in one function call per statement.
--
-- Migration 0002's hub.verified_tenant() was a SQL function (SECURITY DEFINER,
-- SET search_path) calling the PL/pgSQL hub_private.verify_ticket (SET
-- search_path again). A SQL function with SET clauses or SECURITY DEFINER is
-- never inlined, and PostgreSQL plans its body again for every statement that
-- calls it; then the inner function switched search_path and entered PL/pgSQL
-- a second time. Measured as the application role on PostgreSQL 15, load 3:
-- 50 to 120 us per statement, against about 17 us for the same checks in one
-- PL/pgSQL function (see README.md "Tenant tickets: what they cost").
--
-- Same contract, same checks, same answers as
-- hub_private.verify_ticket(current_setting('app.tenant_ticket', true), 't'),
-- which stays the reference (hub.purge_tenant and hub.relay_verified still
-- call it: neither is on the path of every read). The policies are unchanged:
-- they call hub.verified_tenant() as a scalar sub-select, once per statement.
CREATE OR REPLACE FUNCTION hub.verified_tenant() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ticket text := current_setting('app.tenant_ticket', true);
  parts text[];
  k record;
BEGIN
  IF ticket IS NULL OR length(ticket) > 256 THEN RETURN NULL; END IF;
  parts := string_to_array(ticket, '.');
  IF array_length(parts, 1) <> 6 OR parts[1] <> 'v1' OR parts[4] <> 't'
     OR parts[3] !~ '^[0-9]{1,12}$' THEN
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
  RETURN parts[5];
END $$;
