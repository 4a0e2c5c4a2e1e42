-- 0002_incremental_writeback: what incremental runs and write-back need.

-- The last_edited_time up to which a data source has been read completely. An incremental run
-- queries `last_edited_time on_or_after` this minute minus an overlap, and advances it in the
-- same transaction that applies what it read, so a run killed before committing reads again.
ALTER TABLE data_sources ADD COLUMN watermark timestamptz;

-- What relsync last wrote into each denormalized rich-text property, so an unchanged summary
-- costs no call. `hash` is the SHA-256 of the rendered rich-text value (the JSON sent).
CREATE TABLE summaries (
    page_id               uuid NOT NULL,
    -- the rich_text property written (id as Notion returns it)
    property_id           text NOT NULL,
    source_data_source_id uuid NOT NULL,
    -- the relation summarized
    relation_property_id  text NOT NULL,
    format                text NOT NULL CHECK (format IN ('names', 'json', 'mentions')),
    hash                  text NOT NULL,
    -- the summary's plain text, as a reader sees it
    plain_text            text NOT NULL,
    written_at            timestamptz NOT NULL DEFAULT now(),
    run_id                bigint REFERENCES runs (run_id) ON DELETE SET NULL,
    PRIMARY KEY (page_id, property_id)
);

ALTER TABLE runs
    ADD COLUMN summaries_written integer NOT NULL DEFAULT 0,
    ADD COLUMN summaries_unchanged integer NOT NULL DEFAULT 0;
