-- 0005_history_brin: cheaper indexes on edge_history, the append-only log every apply writes.
--
-- A first load of a million edges writes a million edge_history rows. Each of the three btrees
-- 0001 put beside the primary key cost about as much as the heap rows themselves (measured on
-- 1M rows: heap alone 0.9 s, + 0.6-0.9 s per btree; BENCHMARKS.md), and every key they index
-- is the same within an apply: one run_id, one changed_at (now()), one relation.
--
-- The table is written in time order and never updated, so run_id and changed_at grow with the
-- physical row order, and each apply writes one data source's relations in one block: BRIN
-- (a min/max summary per 128 pages) finds the rows of a run, of a time window (prune-history,
-- status' changes per day) or of a relation (export --relations) by reading only the page
-- ranges that can hold them, and costs next to nothing to maintain. If pruning and vacuum let
-- new rows fill old pages, those ranges widen and are read too: slower, never wrong.
--
-- The primary key (history_id) stays a btree: it is the table's identity and export's order.
DROP INDEX IF EXISTS edge_history_changed_at_idx;
DROP INDEX IF EXISTS edge_history_run_id_idx;
DROP INDEX IF EXISTS edge_history_relation_idx;
CREATE INDEX edge_history_changed_at_brin ON edge_history USING brin (changed_at) WITH (autosummarize = on);
CREATE INDEX edge_history_run_id_brin ON edge_history USING brin (run_id) WITH (autosummarize = on);
CREATE INDEX edge_history_relation_brin ON edge_history USING brin (source_data_source_id, property_id)
    WITH (autosummarize = on);
