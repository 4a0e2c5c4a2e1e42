-- Orphans: pages (not in trash) that no materialized relation links from or to.
--
-- Covers every page relsync has read: the configured data sources and the targets of their
-- relations. A member on no project, a task with no project and no tag, a tag nobody uses.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/orphan_pages.sql
--
-- Columns: data_source_name, page_id, title, url, data_source_id
SELECT d.name AS data_source_name,
       p.page_id,
       p.title,
       p.url,
       p.data_source_id
FROM pages p
JOIN data_sources d USING (data_source_id)
WHERE NOT p.in_trash
  AND NOT EXISTS (SELECT 1 FROM relation_edges e WHERE e.from_page_id = p.page_id)
  AND NOT EXISTS (SELECT 1 FROM relation_edges e WHERE e.to_page_id = p.page_id)
ORDER BY d.name, p.data_source_id, p.title, p.page_id;
