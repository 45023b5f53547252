-- Migration 0011: hub.scoped_tenant() with fewer expressions, same checks.
--
-- PL/pgSQL sets every expression of a function up again in each transaction
-- (with a privilege check for each function it calls), and a lookup by id is
-- one statement per transaction: the verifier's expressions were set up on
-- every request. 0009's body checked the ticket's shape in four IFs and
-- rebuilt the signed text with nine concatenations; here the shape is one
-- expression and the signed text one array_to_string. Callgrind, backend of
-- the store's get by id (generic plan): 367,000 -> 339,000 instructions per
-- request; list of 50: 1,509,000 -> 1,481,000 (README "What tickets cost").
--
-- The same contract as 0009: app.tenant_id when app.tenant_ticket is a valid,
-- unexpired `t` ticket signed for that very tenant under an accepted key,
-- else NULL. Ownership and grants are kept (CREATE OR REPLACE).
CREATE OR REPLACE FUNCTION hub.scoped_tenant() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  scope text := current_setting('app.tenant_id', true);
  p text[] := string_to_array(current_setting('app.tenant_ticket', true), '.');
  k record;
BEGIN
  -- No operand can fail on any input; the ticket passes only if every one is
  -- false: NULL anywhere (no ticket, no tenant) refuses. 0009's bound on the
  -- ticket's length (256) is implied for any ticket that passes (fixed
  -- fields, the key id of an installed key, the tenant in app.tenant_id, a
  -- 64-digit MAC) and cost a tenth of the function: a longer one only costs
  -- the session that set it.
  IF coalesce(cardinality(p) <> 6 OR p[1] <> 'v1' OR p[4] <> 't'
              OR p[5] <> scope OR scope = '' OR length(p[3]) NOT BETWEEN 1 AND 12
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
  RETURN scope;
END $$;
