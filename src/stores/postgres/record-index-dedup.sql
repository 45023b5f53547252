-- Secondary indexes of the record tables without B-tree deduplication
-- (migration: see migrations.ts).
--
-- Each of them ends in record_id, and (tenant_id, record_id) is the primary
-- key: no two entries are ever equal, so deduplication never merges one. It
-- still ran at every leaf page split, over every entry of the full page, to
-- find none (_bt_dedup_pass, ~3% of a bulk write's backend samples). Off, a
-- full page splits at once. Index contents and plans are unchanged; only
-- later splits are affected (no rebuild, ShareUpdateExclusiveLock).
DO $$
DECLARE i regclass;
BEGIN
  FOR i IN
    SELECT x.indexrelid::regclass FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'hub' AND NOT x.indisunique
      AND t.relname IN ('outputs', 'decisions', 'governance_events', 'artifacts', 'employee_profiles',
                        'telemetry_events')
  LOOP
    EXECUTE format('ALTER INDEX %s SET (deduplicate_items = off)', i);
  END LOOP;
END $$;
