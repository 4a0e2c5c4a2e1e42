-- 0005_history_brin: a cheaper index on edge_history, the append-only log every apply writes.
--
-- A first load of a million edges writes a million edge_history rows. Each of the three btrees
-- 0001 put beside the primary key cost about as much as the heap rows themselves (measured on
-- 1M rows: heap alone 0.9 s, each btree +0.6-0.9 s, all three +1.8 s; BENCHMARKS.md), while
-- every key they index is the same within an apply: one run_id, one changed_at (now()), one
-- relation per data source.
--
-- The table is written in time order and never updated, so run_id and changed_at grow with the
-- physical row order, and each apply writes its relations' rows in one block. One BRIN index
-- (a min/max summary of each column per 128 pages, usable for a condition on any of its
-- columns) finds the rows of a run, of a time window (prune-history, the changes per day in
-- status) or of a relation (export --relations) by reading only the page ranges that can hold
-- them, for about +0.2 s per million rows. Three single-column BRIN indexes cost twice that.
-- Ranges are summarized by (auto)vacuum; until then a range is always read, which is slower,
-- never wrong. autosummarize is left off: a million-row apply fills the autovacuum work-item
-- queue and logs a line for every request it drops. If pruning and vacuum let new rows fill
-- old pages, those ranges widen and are read too.
--
-- The primary key (history_id) stays a btree: it is the table's identity and export's order.
DROP INDEX IF EXISTS edge_history_changed_at_idx;
DROP INDEX IF EXISTS edge_history_run_id_idx;
DROP INDEX IF EXISTS edge_history_relation_idx;
CREATE INDEX edge_history_brin ON edge_history
    USING brin (changed_at, run_id, source_data_source_id, property_id);
