-- 0001_core: the core relsync schema.
--
-- `relsync migrate` applies this file inside one transaction with search_path set to the
-- configured schema (postgres.schema, default "relsync"), so the names below are unqualified
-- and land in that schema. Per-relation join views are created by reconcile in the views
-- schema (postgres.views_schema, default "notion"); see README "Join views".
--
-- Keys are Notion ids, never names: a relation is (source_data_source_id, property_id), and
-- property ids are stored exactly as Notion returns them (URL-encoded, e.g. '%3AxYz'), so
-- renaming a property in Notion renames nothing here and loses nothing.

-- Every data source relsync has read: the configured ones and the targets of their relations.
CREATE TABLE data_sources (
    data_source_id    uuid PRIMARY KEY,
    database_id       uuid,
    name              text NOT NULL,
    -- true when listed under `sync:`; false when read only for the titles of relation targets
    configured        boolean NOT NULL DEFAULT false,
    last_full_sync_at timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Every page read: sources and relation targets alike.
CREATE TABLE pages (
    page_id          uuid PRIMARY KEY,
    data_source_id   uuid NOT NULL,
    title            text NOT NULL DEFAULT '',
    url              text,
    created_time     timestamptz,
    -- Notion rounds this down to the minute
    last_edited_time timestamptz,
    last_edited_by   uuid,
    -- true when Notion trashed the page, or a full read of its data source no longer returns it
    in_trash         boolean NOT NULL DEFAULT false,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pages_data_source_id_idx ON pages (data_source_id);

-- The catalog of relation properties relsync materializes.
CREATE TABLE relations (
    source_data_source_id uuid NOT NULL REFERENCES data_sources (data_source_id),
    property_id           text NOT NULL,
    property_name         text NOT NULL,
    target_data_source_id uuid,
    target_database_id    uuid,
    kind                  text NOT NULL CHECK (kind IN ('single', 'dual')),
    -- for dual relations: the back-relation property on the target data source
    synced_property_id    text,
    synced_property_name  text,
    -- the per-relation view's name in the views schema (unquoted form)
    join_view             text NOT NULL,
    first_seen_at         timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_data_source_id, property_id)
);

-- One row per edge: page `from_page_id` links to `to_page_id` through the relation.
CREATE TABLE edges (
    source_data_source_id uuid NOT NULL,
    property_id           text NOT NULL,
    from_page_id          uuid NOT NULL,
    to_page_id            uuid NOT NULL,
    -- 0-based index in Notion's relation list; NULL only where the order could not be known
    position              integer,
    added_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_data_source_id, property_id, from_page_id, to_page_id),
    FOREIGN KEY (source_data_source_id, property_id)
        REFERENCES relations (source_data_source_id, property_id) ON DELETE CASCADE
);
CREATE INDEX edges_to_page_id_idx ON edges (to_page_id);

-- Runs of `relsync reconcile`: what each did and how it ended.
CREATE TABLE runs (
    run_id         bigserial PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    outcome        text NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'succeeded', 'failed')),
    mode           text NOT NULL,
    -- the failure's one-line description (never a secret)
    error          text,
    -- API calls by endpoint, e.g. {"POST /v1/data_sources/{id}/query": 12}
    api_calls      jsonb NOT NULL DEFAULT '{}'::jsonb,
    rate_limited   integer NOT NULL DEFAULT 0,
    retries        integer NOT NULL DEFAULT 0,
    pages_read     integer NOT NULL DEFAULT 0,
    edges_added    integer NOT NULL DEFAULT 0,
    edges_removed  integer NOT NULL DEFAULT 0
);

-- Every edge added or removed, with the run and time.
CREATE TABLE edge_history (
    history_id            bigserial PRIMARY KEY,
    run_id                bigint REFERENCES runs (run_id) ON DELETE SET NULL,
    source_data_source_id uuid NOT NULL,
    property_id           text NOT NULL,
    from_page_id          uuid NOT NULL,
    to_page_id            uuid NOT NULL,
    change                text NOT NULL CHECK (change IN ('added', 'removed')),
    position              integer,
    changed_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX edge_history_changed_at_idx ON edge_history (changed_at);
CREATE INDEX edge_history_run_id_idx ON edge_history (run_id);
CREATE INDEX edge_history_relation_idx ON edge_history (source_data_source_id, property_id);

-- All edges with their relation's current name: the stable entry point for SQL and BI.
CREATE VIEW relation_edges AS
SELECT e.source_data_source_id,
       e.property_id,
       r.property_name,
       e.from_page_id,
       e.to_page_id,
       e.position
FROM edges e
JOIN relations r USING (source_data_source_id, property_id);
