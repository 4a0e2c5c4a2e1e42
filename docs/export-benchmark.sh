#!/usr/bin/env bash
# docs/export-benchmark.sh [ROWS] — export throughput: relsync export vs psql \copy, same data.
#
# Fills a scratch schema with ROWS edges (default 2,000,000) in one relation (plus pages and an
# edge history of the same size), then times, on the same join view:
#   relsync export --format csv   vs  psql \copy (same SELECT … ORDER BY) TO file CSV HEADER
#   relsync export --format jsonl vs  psql \copy (SELECT row_to_json …) TO file (same trick)
# and prints rows/s for each. Needs the local cluster (scripts/pg.sh start) and a built relsync
# (RELSYNC_BIN, default: the release build, else the debug build). Drops its schemas at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
ROWS="${1:-2000000}"
eval "$(scripts/pg.sh env)"
BIN="${RELSYNC_BIN:-}"
if [[ -z "$BIN" ]]; then
    for candidate in .build/release/relsync .build/debug/relsync; do [[ -x "$candidate" ]] && BIN="$candidate" && break; done
fi
[[ -x "$BIN" ]] || { echo "export-benchmark: build relsync first (swift build -c release)" >&2; exit 1; }

SCHEMA="bench_export_$$"
VIEWS="${SCHEMA}_views"
WORK="$(mktemp -d)"
trap 'psql -X -q -o /dev/null "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; DROP SCHEMA IF EXISTS $VIEWS CASCADE" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
cat >"$WORK/relsync.yaml" <<YAML
notion:
  token: benchmark-token-not-used
  base_url: http://127.0.0.1:9
postgres:
  url: $DATABASE_URL
  schema: $SCHEMA
  views_schema: $VIEWS
sync:
  - data_source: 00000000-0000-4000-8000-000000000001
YAML
"$BIN" migrate --config "$WORK/relsync.yaml" >/dev/null 2>&1

echo "filling $SCHEMA with $ROWS edges…"
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
SET search_path TO $SCHEMA;
INSERT INTO data_sources (data_source_id, name, configured) VALUES
    ('00000000-0000-4000-8000-000000000001', 'Projects', true),
    ('00000000-0000-4000-8000-000000000002', 'Members', false);
INSERT INTO relations (source_data_source_id, property_id, property_name, target_data_source_id, kind, join_view,
                       join_view_schema, from_column, to_column)
VALUES ('00000000-0000-4000-8000-000000000001', '%3AxYz', 'Team Members', '00000000-0000-4000-8000-000000000002',
        'dual', 'projects__team_members', '$VIEWS', 'project_page_id', 'member_page_id');
-- $ROWS edges: 1,000 members each on ROWS/1,000 projects.
INSERT INTO pages (page_id, data_source_id, title)
SELECT md5('p' || g)::uuid, '00000000-0000-4000-8000-000000000001', 'Project ' || g || ', "quoted" \ back' FROM generate_series(1, $ROWS / 1000) g;
INSERT INTO pages (page_id, data_source_id, title)
SELECT md5('m' || g)::uuid, '00000000-0000-4000-8000-000000000002', 'Member ' || g FROM generate_series(1, 1000) g;
INSERT INTO edges (source_data_source_id, property_id, from_page_id, to_page_id, position)
SELECT '00000000-0000-4000-8000-000000000001', '%3AxYz', md5('p' || p)::uuid, md5('m' || m)::uuid, m - 1
FROM generate_series(1, $ROWS / 1000) p, generate_series(1, 1000) m;
INSERT INTO edge_history (source_data_source_id, property_id, from_page_id, to_page_id, change, position)
SELECT source_data_source_id, property_id, from_page_id, to_page_id, 'added', position FROM edges;
CREATE SCHEMA IF NOT EXISTS $VIEWS;
CREATE VIEW $VIEWS.projects__team_members AS
SELECT from_page_id AS project_page_id, to_page_id AS member_page_id, position FROM $SCHEMA.edges
WHERE source_data_source_id = '00000000-0000-4000-8000-000000000001' AND property_id = '%3AxYz';
VACUUM ANALYZE;
SQL

VIEW="$VIEWS.projects__team_members"
ORDER="ORDER BY t.project_page_id, t.position NULLS LAST, t.member_page_id"
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'; }
rate() { awk -v rows="$ROWS" -v s="$1" 'BEGIN { printf "%10.0f rows/s  (%.2f s)", rows / s, s }'; }

# A warm-up read so both sides start from a warm cache.
psql -X -q "$DATABASE_URL" -c "\\copy (SELECT * FROM $VIEW t $ORDER) TO '/dev/null' WITH (FORMAT csv)" >/dev/null

for format in csv jsonl; do
    relsync_s=$(seconds "$BIN" export --config "$WORK/relsync.yaml" --format "$format" --only views --out "$WORK/out-$format")
    if [[ $format == csv ]]; then
        query="SELECT * FROM $VIEW t $ORDER"
        options="FORMAT csv, HEADER true"
    else
        query="SELECT row_to_json(t)::text FROM $VIEW t $ORDER"
        options="FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"
    fi
    psql_s=$(seconds psql -X -q "$DATABASE_URL" -c "\\copy ($query) TO '$WORK/psql.$format' WITH ($options)")
    cmp -s "$WORK/out-$format/views/projects__team_members.$format" "$WORK/psql.$format" && same="identical files" || same="FILES DIFFER"
    echo "$format: relsync export $(rate "$relsync_s") | psql \\copy $(rate "$psql_s") | $same"
done
