-- Migration 0002: the database as the last wall (see README.md "Tenant tickets").
--
-- Before this migration any session of the application role could choose a
-- tenant with set_config('app.tenant_id', ...). Now a transaction must also
-- present a ticket the gateway signed for that tenant (HMAC-SHA256, see
-- tenant-tickets.ts) in `app.tenant_ticket`. The key lives in
-- hub_private.ticket_keys: owned by the schema owner, no privilege for anyone
-- else, read only by the SECURITY DEFINER functions below.
--
-- HMAC is computed over the built-in sha256(bytea) (no extension needed, so
-- the same SQL runs on any PostgreSQL >= 11 and on PGlite): the table keeps
-- the key already XORed with the two HMAC pads, so
--   HMAC(K, m) = sha256(outer_pad || sha256(inner_pad || m)).

CREATE SCHEMA hub_private;
REVOKE ALL ON SCHEMA hub_private FROM PUBLIC;

-- At most one current key and one previous key (still accepted during a
-- rotation, until `hub db ticket-key --retire-previous-key`).
CREATE TABLE hub_private.ticket_keys (
  kid          text COLLATE "C" PRIMARY KEY,
  state        text COLLATE "C" NOT NULL CHECK (state IN ('current', 'previous')),
  inner_pad    bytea NOT NULL CHECK (length(inner_pad) = 64),
  outer_pad    bytea NOT NULL CHECK (length(outer_pad) = 64),
  development  boolean NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ticket_keys_one_current ON hub_private.ticket_keys (state) WHERE state = 'current';
REVOKE ALL ON hub_private.ticket_keys FROM PUBLIC;

-- The subject of a valid, unexpired ticket for `purpose`, or NULL. Ticket:
-- v1.<kid>.<expiry, epoch seconds>.<purpose>.<subject>.<hex HMAC of the rest>.
CREATE FUNCTION hub_private.verify_ticket(ticket text, purpose text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  parts text[];
  k record;
BEGIN
  IF ticket IS NULL OR length(ticket) > 256 THEN RETURN NULL; END IF;
  parts := string_to_array(ticket, '.');
  IF array_length(parts, 1) <> 6 OR parts[1] <> 'v1' OR parts[4] <> purpose
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
REVOKE ALL ON FUNCTION hub_private.verify_ticket(text, text) FROM PUBLIC;

-- The tenant this transaction's ticket was signed for (NULL without a valid
-- one). STABLE and called from the policies as a scalar sub-select, so it is
-- evaluated once per statement (an InitPlan), not per row.
CREATE FUNCTION hub.verified_tenant() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT hub_private.verify_ticket(current_setting('app.tenant_ticket', true), 't')
$$;
REVOKE ALL ON FUNCTION hub.verified_tenant() FROM PUBLIC;

-- True when this transaction carries a valid relay ticket.
CREATE FUNCTION hub.relay_verified() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(hub_private.verify_ticket(current_setting('app.tenant_ticket', true), 'r') = '*', false)
$$;
REVOKE ALL ON FUNCTION hub.relay_verified() FROM PUBLIC;

-- Whether the database accepts tickets signed under key `kid` (the store
-- checks at open, to fail with a clear error rather than read nothing).
CREATE FUNCTION hub.ticket_key_accepted(key_id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM hub_private.ticket_keys WHERE kid = key_id)
$$;
REVOKE ALL ON FUNCTION hub.ticket_key_accepted(text) FROM PUBLIC;

-- Installs `key` as the current key; the current one becomes the previous
-- (still accepted), an older previous and any development key are dropped.
-- With `replace`, every other key is dropped at once. Returns the key id.
-- Owner only (hub db ticket-key, hub db migrate, PGlite at open).
CREATE FUNCTION hub_private.install_ticket_key(key bytea, development boolean, replace boolean) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  key_id text := substr(encode(sha256(convert_to('hub-ticket-kid:', 'UTF8') || key), 'hex'), 1, 16);
  padded bytea;
  ipad bytea;
  opad bytea;
BEGIN
  IF length(key) <> 32 THEN
    RAISE EXCEPTION 'a ticket key is 32 bytes' USING ERRCODE = '22023';
  END IF;
  padded := key || decode(repeat('00', 32), 'hex');
  ipad := padded;
  opad := padded;
  FOR i IN 0..63 LOOP
    ipad := set_byte(ipad, i, get_byte(padded, i) # 54);  -- 0x36
    opad := set_byte(opad, i, get_byte(padded, i) # 92);  -- 0x5c
  END LOOP;
  IF replace THEN
    DELETE FROM hub_private.ticket_keys WHERE kid <> key_id;
  ELSIF EXISTS (SELECT 1 FROM hub_private.ticket_keys WHERE kid = key_id AND state = 'current') THEN
    RETURN key_id;
  ELSE
    DELETE FROM hub_private.ticket_keys WHERE state = 'previous' OR ticket_keys.development OR kid = key_id;
    UPDATE hub_private.ticket_keys SET state = 'previous' WHERE state = 'current';
  END IF;
  INSERT INTO hub_private.ticket_keys (kid, state, inner_pad, outer_pad, development)
  VALUES (key_id, 'current', ipad, opad, install_ticket_key.development)
  ON CONFLICT (kid) DO UPDATE SET state = 'current';
  RETURN key_id;
END $$;
REVOKE ALL ON FUNCTION hub_private.install_ticket_key(bytea, boolean, boolean) FROM PUBLIC;

-- Drops the previous key: tickets signed under it are refused from now on.
CREATE FUNCTION hub_private.retire_previous_ticket_key() RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  WITH d AS (DELETE FROM hub_private.ticket_keys WHERE state = 'previous' RETURNING 1) SELECT count(*)::int FROM d
$$;
REVOKE ALL ON FUNCTION hub_private.retire_previous_ticket_key() FROM PUBLIC;

-- Record tables: the tenant policy now also requires app.tenant_id to be the
-- verified tenant. Both sides are scalar sub-selects (InitPlans, evaluated
-- once per statement), so tenant-leading indexes are still used.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['outputs', 'decisions', 'governance_events', 'artifacts',
                           'employee_profiles', 'telemetry_events'] LOOP
    EXECUTE format('DROP POLICY tenant_isolation ON hub.%I', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON hub.%I'
      ' USING (tenant_id = (SELECT current_setting(''app.tenant_id'', true))'
      '        AND (SELECT current_setting(''app.tenant_id'', true)) = (SELECT hub.verified_tenant()))'
      ' WITH CHECK (tenant_id = (SELECT current_setting(''app.tenant_id'', true))'
      '        AND (SELECT current_setting(''app.tenant_id'', true)) = (SELECT hub.verified_tenant()))', t);
  END LOOP;
END $$;

-- The outbox: a tenant's transaction may only add entries of its own tenant
-- (the application role has INSERT only); reading, leasing and deleting
-- entries needs a relay ticket (the relay role has SELECT, UPDATE of the
-- lease and DELETE). app.outbox_relay no longer means anything.
DROP POLICY tenant_isolation ON hub.outbox;
DROP POLICY relay_access ON hub.outbox;
CREATE POLICY tenant_isolation ON hub.outbox FOR INSERT
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true))
              AND (SELECT current_setting('app.tenant_id', true)) = (SELECT hub.verified_tenant()));
CREATE POLICY relay_access ON hub.outbox
  USING ((SELECT hub.relay_verified()))
  WITH CHECK ((SELECT hub.relay_verified()));

-- Records are immutable: the application role has no DELETE or UPDATE. A
-- tenant is purged only through this function, with a purge ticket the
-- gateway signs for that one call (never left in a setting an injected
-- statement could reuse), in a transaction scoped to the same tenant. The
-- tenant's outbox entries are dropped by the relay (their records are gone).
-- A new record table needs a new version of this function.
CREATE FUNCTION hub.purge_tenant(ticket text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t text := hub_private.verify_ticket(ticket, 'p');
  n bigint := 0;
  c bigint;
BEGIN
  IF t IS NULL OR t IS DISTINCT FROM current_setting('app.tenant_id', true)
     OR t IS DISTINCT FROM hub.verified_tenant() THEN
    RAISE EXCEPTION 'purge refused: no valid purge ticket for this transaction''s tenant'
      USING ERRCODE = '42501';
  END IF;
  WITH d AS (DELETE FROM hub.outputs WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  WITH d AS (DELETE FROM hub.decisions WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  WITH d AS (DELETE FROM hub.governance_events WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  WITH d AS (DELETE FROM hub.artifacts WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  WITH d AS (DELETE FROM hub.employee_profiles WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  WITH d AS (DELETE FROM hub.telemetry_events WHERE tenant_id = t RETURNING 1) SELECT count(*) INTO c FROM d;
  n := n + c;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION hub.purge_tenant(text) FROM PUBLIC;
