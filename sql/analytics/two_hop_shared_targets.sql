-- Two-hop links: pairs of pages that link to the same pages through one relation, e.g.
-- projects that share members (Project A → member ← Project B), with how many they share.
--
-- Each pair appears once (page_a sorts before page_b). The number of pairs grows with the
-- square of a page's in-degree (a member on 300 projects makes 44,850 pairs), so on a large
-- workspace filter first: one relation (`WHERE c.join_view = 'projects__team_members'`), or
-- `HAVING count(*) >= 3`.
--
--   psql "$DATABASE_URL" -c 'SET search_path TO relsync' -f sql/analytics/two_hop_shared_targets.sql
--
-- Columns: source_data_source_name, property_name, page_a, title_a, page_b, title_b, shared,
--          source_data_source_id, property_id
SELECT c.source_data_source_name,
       c.property_name,
       a.from_page_id AS page_a,
       pa.title AS title_a,
       b.from_page_id AS page_b,
       pb.title AS title_b,
       count(*) AS shared,
       c.source_data_source_id,
       c.property_id
FROM relation_edges a
JOIN relation_edges b
  ON b.source_data_source_id = a.source_data_source_id
 AND b.property_id = a.property_id
 AND b.to_page_id = a.to_page_id
 AND b.from_page_id > a.from_page_id
JOIN relation_catalog c
  ON c.source_data_source_id = a.source_data_source_id
 AND c.property_id = a.property_id
LEFT JOIN pages pa ON pa.page_id = a.from_page_id
LEFT JOIN pages pb ON pb.page_id = b.from_page_id
GROUP BY c.source_data_source_id, c.source_data_source_name, c.property_id, c.property_name,
         a.from_page_id, pa.title, b.from_page_id, pb.title
ORDER BY shared DESC, c.source_data_source_name, c.property_name, page_a, page_b;
