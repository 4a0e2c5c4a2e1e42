-- 0003_analytics: the analyst-facing side — where each join view lives and what its columns
-- are called, a readable catalog of relations, and comments on everything an analyst sees.
-- (The join views themselves are created by reconcile; see README "Analytics".)

-- Filled in by reconcile when it (re)creates the relation's join view.
ALTER TABLE relations
    ADD COLUMN join_view_schema text,
    ADD COLUMN from_column      text,
    ADD COLUMN to_column        text;

-- Every relation with its Notion names and ids, its target, kind, and join view.
CREATE VIEW relation_catalog AS
SELECT r.source_data_source_id,
       s.name AS source_data_source_name,
       r.property_id,
       r.property_name,
       r.target_data_source_id,
       t.name AS target_data_source_name,
       r.target_database_id,
       r.kind,
       r.synced_property_id,
       r.synced_property_name,
       r.join_view_schema,
       r.join_view,
       r.from_column,
       r.to_column,
       r.first_seen_at,
       r.updated_at
FROM relations r
JOIN data_sources s ON s.data_source_id = r.source_data_source_id
LEFT JOIN data_sources t ON t.data_source_id = r.target_data_source_id;

COMMENT ON VIEW relation_catalog IS
    'Every Notion relation relsync materializes: Notion names and ids of the relation, of the data source holding it and of its target, its kind, and its join view (schema, name, column names). Maintained by relsync.';
COMMENT ON COLUMN relation_catalog.source_data_source_name IS 'Notion name of the data source that holds the relation property.';
COMMENT ON COLUMN relation_catalog.target_data_source_name IS 'Notion name of the data source the relation points into; NULL when relsync has not read it (not shared with the integration).';
COMMENT ON COLUMN relation_catalog.join_view IS 'The join view''s name in join_view_schema (unquoted); quote it in SQL.';
COMMENT ON COLUMN relation_catalog.from_column IS 'The join view''s column holding the page that has the relation.';
COMMENT ON COLUMN relation_catalog.to_column IS 'The join view''s column holding the related page.';

COMMENT ON TABLE data_sources IS 'Every Notion data source relsync has read: the configured ones and the targets of their relations. Maintained by relsync.';
COMMENT ON COLUMN data_sources.data_source_id IS 'Notion''s data source id.';
COMMENT ON COLUMN data_sources.name IS 'The data source''s current name in Notion.';
COMMENT ON COLUMN data_sources.configured IS 'true when listed under sync: in the config; false when read only for the titles of relation targets.';
COMMENT ON COLUMN data_sources.last_full_sync_at IS 'When a complete read of the data source was last applied.';
COMMENT ON COLUMN data_sources.watermark IS 'The last_edited_time up to which the data source has been read completely.';

COMMENT ON TABLE pages IS 'Every Notion page relsync has read: pages of configured data sources and relation targets alike. Maintained by relsync.';
COMMENT ON COLUMN pages.page_id IS 'Notion''s page id; the join views'' page columns refer to it.';
COMMENT ON COLUMN pages.data_source_id IS 'The data source the page belongs to (data_sources.data_source_id).';
COMMENT ON COLUMN pages.title IS 'The page''s title in Notion (its title property as plain text).';
COMMENT ON COLUMN pages.last_edited_time IS 'Notion''s last_edited_time, rounded down to the minute by Notion.';
COMMENT ON COLUMN pages.in_trash IS 'true when Notion trashed the page, or a complete read no longer returned it.';

COMMENT ON TABLE relations IS 'The catalog of relation properties relsync materializes, keyed on Notion ids; relation_catalog adds the data sources'' names. Maintained by relsync.';
COMMENT ON COLUMN relations.property_id IS 'Notion''s property id, exactly as Notion returns it (URL-encoded). Renaming the property in Notion keeps it.';
COMMENT ON COLUMN relations.property_name IS 'The relation property''s current name in Notion.';
COMMENT ON COLUMN relations.kind IS 'single (one-way) or dual (two-way, with a synced property on the target).';

COMMENT ON TABLE edges IS 'One row per edge of every relation: from_page_id links to to_page_id. The join views show one relation each. Maintained by relsync.';
COMMENT ON COLUMN edges.position IS '0-based place of to_page_id in the relation''s list in Notion; NULL where the order could not be known.';
COMMENT ON COLUMN edges.added_at IS 'When relsync first stored the edge.';

COMMENT ON TABLE edge_history IS 'Every edge added or removed, with the run that saw it and when. Grows with every change: prune it with relsync prune-history --older-than 90d (README, Analytics).';
COMMENT ON COLUMN edge_history.change IS 'added or removed.';
COMMENT ON COLUMN edge_history.changed_at IS 'When the run applied the change (not when it was made in Notion).';

COMMENT ON TABLE runs IS 'One row per relsync reconcile run: outcome, API calls by endpoint, 429s, retries, and what changed.';
COMMENT ON COLUMN runs.api_calls IS 'Notion API calls by endpoint, e.g. {"POST /v1/data_sources/{id}/query": 12}.';
COMMENT ON COLUMN runs.rate_limited IS 'Responses with HTTP 429 (rate limited) during the run.';
COMMENT ON COLUMN runs.error IS 'The failure''s one-line description, for failed runs (never a secret).';

COMMENT ON VIEW relation_edges IS 'All edges with their relation''s current name: the stable entry point for SQL and BI across relations.';
