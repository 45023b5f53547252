-- Migration 17: a data version per tenant, so that a gateway may cache a
-- rollup's answer and serve it again only while its inputs are unchanged
-- (README "Rollup data versions and the result cache").
--
-- The version is read by one statement (postgres-store-rollups.ts), in one
-- snapshot: the tenant's epoch here, the number of the tenant's unfolded feed
-- rows, and the schema's latest migration. Cost per skill and the skills
-- picker without a team read cells, bin counts, unfolded feed rows, raw edge
-- outputs and the backfill's pending mark. Every change to those commits with
-- a change of the version, and a version never comes back:
--
-- * a record write adds feed rows in its own transaction (the statement
--   triggers of migration 3): the count grows. Nothing else adds feed rows,
--   and every removal of feed rows (the fold, a purge) bumps the epoch in its
--   transaction (trigger below), so between two epoch changes the count only
--   grows and equal counts mean no write committed in between. (Sequence
--   values commit out of order, so no "largest id" could serve here; and
--   writes take no lock of their own: concurrent writers of a tenant are not
--   serialised by the version.)
-- * the fold moves feed rows into cells: its DELETE of the claimed rows bumps
--   the epochs of their tenants (statement trigger on hub.rollup_feed).
-- * the backfill changes cells and moves its position in hub.rollup_pending
--   in one transaction: the pending row's trigger bumps the epoch.
-- * a purge deletes records, then hub.rollup_forget deletes the feed rows and
--   cells, and bumps the epoch last (after the feed rows, which a fold may
--   hold: the fold takes the feed rows, then the epoch; so does the purge).
-- * a migration may rewrite cells: the version ends in the latest migration.
--
-- Epochs come from a sequence, so a bumped epoch is a value the tenant never
-- had (not a counter that a deleted row could restart). Decision and
-- governance cells, orphan decisions and profiles are not covered: the
-- rollups reading them are never cached.

CREATE TABLE hub.rollup_versions (
  tenant_id text COLLATE "C" PRIMARY KEY,
  epoch     bigint NOT NULL
);
CREATE SEQUENCE hub.rollup_epochs;

ALTER TABLE hub.rollup_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE hub.rollup_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hub.rollup_versions FOR SELECT
  USING (tenant_id = (SELECT hub.scoped_tenant()));
DO $$ BEGIN
  EXECUTE format('CREATE POLICY rollup_maintainer ON hub.rollup_versions TO %I'
                 ' USING ((SELECT current_setting(''app.rollup_maintenance'', true)) = ''on'')', current_user);
END $$;

-- New epochs for `tenants`, in tenant order (two bumps of overlapping tenants
-- lock their rows in the same order).
CREATE FUNCTION hub.rollup_bump(tenants text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM set_config('app.rollup_maintenance', 'on', true);
  INSERT INTO hub.rollup_versions AS v (tenant_id, epoch)
  SELECT t, nextval('hub.rollup_epochs') FROM (SELECT DISTINCT t FROM unnest(tenants) AS u(t) ORDER BY 1) x
  ON CONFLICT (tenant_id) DO UPDATE SET epoch = excluded.epoch;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_bump(text[]) FROM PUBLIC;

CREATE FUNCTION hub.rollup_feed_removed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM hub.rollup_bump(ARRAY(SELECT DISTINCT tenant_id FROM gone));
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_feed_removed() FROM PUBLIC;
CREATE TRIGGER rollup_version AFTER DELETE ON hub.rollup_feed
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_removed();
-- Feed rows are never updated; if that changes, the version still follows.
CREATE TRIGGER rollup_version_update AFTER UPDATE ON hub.rollup_feed
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION hub.rollup_feed_removed();

CREATE FUNCTION hub.rollup_pending_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM hub.rollup_bump(ARRAY[CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END]);
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION hub.rollup_pending_changed() FROM PUBLIC;
CREATE TRIGGER rollup_version AFTER INSERT OR UPDATE OR DELETE ON hub.rollup_pending
  FOR EACH ROW EXECUTE FUNCTION hub.rollup_pending_changed();

-- As in preagg-stats.sql, bumping the epoch last.
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
  PERFORM hub.rollup_bump(ARRAY[t]);
END $$;
