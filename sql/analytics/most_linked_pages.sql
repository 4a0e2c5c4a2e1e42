-- Most-linked pages: per relation, the pages that the most pages link to (in-degree), top 10.
--
-- E.g. for Projects → Team Members: the members on the most projects. Pages with the same
-- number of links share a rank, so a relation can show more than 10 rows when the 10th place
-- is tied.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/most_linked_pages.sql
--
-- Columns: source_data_source_name, property_name, rank, page_id, title, links,
--          source_data_source_id, property_id
WITH in_degree AS (
    SELECT source_data_source_id, property_id, to_page_id, count(*) AS links
    FROM relation_edges
    GROUP BY source_data_source_id, property_id, to_page_id
), ranked AS (
    SELECT i.*,
           rank() OVER (PARTITION BY source_data_source_id, property_id ORDER BY links DESC) AS rank
    FROM in_degree i
)
SELECT c.source_data_source_name,
       c.property_name,
       r.rank,
       r.to_page_id AS page_id,
       p.title,                  -- NULL when the target's data source is not shared with relsync
       r.links,
       r.source_data_source_id,
       r.property_id
FROM ranked r
JOIN relation_catalog c USING (source_data_source_id, property_id)
LEFT JOIN pages p ON p.page_id = r.to_page_id
WHERE r.rank <= 10
ORDER BY c.source_data_source_name, c.property_name, r.source_data_source_id, r.property_id, r.rank, r.to_page_id;
