-- Relation lists longer than 25: the true count beside what Notion shows.
--
-- A Notion page object carries at most 25 references of a relation (`has_more: true` past
-- that), so a count or rollup computed from page objects stops at 25. These are the pages
-- where it would be wrong, and by how much; relsync's tables hold the complete lists.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/rollup_truncation.sql
--
-- Columns: source_data_source_name, property_name, page_id, title, true_count,
--          capped_count (what a page object shows: 25), missing, source_data_source_id, property_id
SELECT c.source_data_source_name,
       c.property_name,
       e.from_page_id AS page_id,
       p.title,
       count(*) AS true_count,
       least(count(*), 25) AS capped_count,
       count(*) - least(count(*), 25) AS missing,
       c.source_data_source_id,
       c.property_id
FROM relation_edges e
JOIN relation_catalog c USING (source_data_source_id, property_id)
LEFT JOIN pages p ON p.page_id = e.from_page_id
GROUP BY c.source_data_source_id, c.source_data_source_name, c.property_id, c.property_name, e.from_page_id, p.title
HAVING count(*) > 25
ORDER BY true_count DESC, c.source_data_source_name, c.property_name, e.from_page_id;
