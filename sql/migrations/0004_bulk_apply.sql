-- 0004_bulk_apply: keep row-level triggers off the bulk path.
--
-- A first load of a million edges fired two foreign-key triggers a million times each
-- (measured: 4-5 s apiece of a 23 s apply; BENCHMARKS.md). Both checks are guaranteed by the
-- one writer instead: apply inserts edges only for relations it upserts in the same
-- transaction, and deletes a dropped relation's edges (recording them in edge_history) before
-- the relation itself; edge_history.run_id is always the run doing the writing, and runs are
-- never deleted by relsync (prune-history deletes history rows, not runs).
ALTER TABLE edges DROP CONSTRAINT IF EXISTS edges_source_data_source_id_property_id_fkey;
ALTER TABLE edge_history DROP CONSTRAINT IF EXISTS edge_history_run_id_fkey;
