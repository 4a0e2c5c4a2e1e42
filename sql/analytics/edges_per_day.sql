-- Edges added and removed per day (UTC) and relation, from the edge history.
--
-- Each reconcile records every edge it adds or removes; a position change is neither. The day
-- is when relsync applied the change, not when it was made in Notion. Relations dropped since
-- show with NULL names. The history goes back as far as it was kept (see relsync
-- prune-history); add e.g. `WHERE h.changed_at >= now() - interval '30 days'` to narrow it.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/edges_per_day.sql
--
-- Columns: day, source_data_source_name, property_name, added, removed, net,
--          source_data_source_id, property_id
SELECT (h.changed_at AT TIME ZONE 'UTC')::date AS day,
       c.source_data_source_name,
       c.property_name,
       count(*) FILTER (WHERE h.change = 'added') AS added,
       count(*) FILTER (WHERE h.change = 'removed') AS removed,
       count(*) FILTER (WHERE h.change = 'added') - count(*) FILTER (WHERE h.change = 'removed') AS net,
       h.source_data_source_id,
       h.property_id
FROM edge_history h
LEFT JOIN relation_catalog c USING (source_data_source_id, property_id)
GROUP BY 1, c.source_data_source_name, c.property_name, h.source_data_source_id, h.property_id
ORDER BY 1, c.source_data_source_name, c.property_name, h.source_data_source_id, h.property_id;
