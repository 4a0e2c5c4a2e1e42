-- Degree distribution per relation: how many pages link to 0, 1, 2, … pages.
--
-- For each relation, every page of the data source that holds it (not in trash) is counted
-- once, at its number of links; pages with no link count at degree 0. A long tail past 25 is
-- where Notion's page object (and anything built on it) shows only the first 25.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/degree_distribution.sql
--
-- Columns: source_data_source_name, property_name, join_view, degree, pages,
--          source_data_source_id, property_id
SELECT c.source_data_source_name,
       c.property_name,
       c.join_view,
       d.degree,
       count(*) AS pages,
       c.source_data_source_id,
       c.property_id
FROM relation_catalog c
CROSS JOIN LATERAL (
    -- every live page of the relation's data source, with its number of links
    SELECT p.page_id, count(e.to_page_id) AS degree
    FROM pages p
    LEFT JOIN relation_edges e
           ON e.source_data_source_id = c.source_data_source_id
          AND e.property_id = c.property_id
          AND e.from_page_id = p.page_id
    WHERE p.data_source_id = c.source_data_source_id
      AND NOT p.in_trash
    GROUP BY p.page_id
) d
GROUP BY c.source_data_source_id, c.source_data_source_name, c.property_id, c.property_name, c.join_view, d.degree
ORDER BY c.source_data_source_name, c.property_name, c.source_data_source_id, c.property_id, d.degree;
