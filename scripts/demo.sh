#!/usr/bin/env bash
# make demo: a local PostgreSQL, the Notion simulator with a generated workspace, one reconcile,
# and a look at the result. Everything lives under .demo/ and .pg/ in the project folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
mkdir -p .demo

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "PostgreSQL"
scripts/pg.sh start
eval "$(scripts/pg.sh env)"
export DATABASE_URL="postgresql://${POSTGRES_USER}@${POSTGRES_HOSTNAME}:${POSTGRES_PORT}/relsync_demo"
psql -q "$DATABASE_URL" -c 'DROP SCHEMA IF EXISTS relsync CASCADE; DROP SCHEMA IF EXISTS notion CASCADE;' 2>/dev/null

step "Build"
swift build --product relsync
swift build --product notion-sim
bin="$(swift build --show-bin-path)"

step "Notion simulator (demo workspace, a Business plan budget: 600 requests per 60 s window)"
export NOTION_TOKEN="ntn_demo_$(date +%s)"
rm -f .demo/manifest.json
"$bin/notion-sim" --workspace demo --seed 42 --port 0 --token "$NOTION_TOKEN" \
    --rate-limit window:600:60 --manifest .demo/manifest.json >.demo/notion-sim.log 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [[ -s .demo/manifest.json ]] && break; sleep 0.1; done
[[ -s .demo/manifest.json ]] || { echo "demo: the simulator did not start; see .demo/notion-sim.log" >&2; exit 1; }

python3 - .demo/manifest.json >.demo/relsync.yaml <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
by_name = {ds["name"]: ds for ds in m["data_sources"]}
print("# Written by scripts/demo.sh from the simulator's manifest.")
print("notion:")
print("  token: ${NOTION_TOKEN}")
print(f"  base_url: {m['base_url']}")
print('  version: "2025-09-03"')
print("  requests_per_window: 600")
print("  window_seconds: 60")
print("postgres:")
print("  url: ${DATABASE_URL}")
print("  schema: relsync")
print("sync:")
print(f"  - data_source: {by_name['Projects']['id']}")
print("    relations: [Team Members]")
print("    write_back:")
print("      - relation: Team Members")
print("        property: Team Members (all)")
print("        format: names")
print(f"  - data_source: {by_name['Tasks']['id']}")
PY
cat .demo/relsync.yaml

step "relsync reconcile"
"$bin/relsync" reconcile --config .demo/relsync.yaml --summary

step "Again: an unchanged workspace changes nothing (incremental: one query per data source, no writes)"
"$bin/relsync" reconcile --config .demo/relsync.yaml --summary | tail -4

step "A summary relsync wrote back into Notion (\"Team Members (all)\" of the project \"Everyone\")"
page=$(psql -X -At "$DATABASE_URL" -c "SELECT page_id FROM relsync.pages WHERE title = 'Everyone'")
python3 - "$(python3 -c 'import json; print(json.load(open(".demo/manifest.json"))["base_url"])')" "$page" <<'PY'
import json, os, sys, urllib.request
base, page = sys.argv[1], sys.argv[2]
request = urllib.request.Request(f"{base}/v1/pages/{page}", headers={
    "Authorization": "Bearer " + os.environ["NOTION_TOKEN"], "Notion-Version": "2025-09-03"})
items = json.load(urllib.request.urlopen(request))["properties"]["Team Members (all)"]["rich_text"]
text = "".join(item["plain_text"] for item in items)
print(text[:300] + (" …" if len(text) > 300 else ""))
print(f"({len(text)} characters in {len(items)} rich-text elements, as GET /v1/pages/{{id}} returns it)")
PY

step "What landed in PostgreSQL"
psql -X "$DATABASE_URL" -P pager=off <<'SQL'
SELECT r.property_name AS relation, r.join_view, count(e.*) AS edges
FROM relsync.relations r LEFT JOIN relsync.edges e USING (source_data_source_id, property_id)
GROUP BY 1, 2 ORDER BY 1;

\echo 'The largest relations (Notion shows only 25 of each in a page object):'
SELECT p.title AS project, count(*) AS team_members
FROM notion.projects__team_members j JOIN relsync.pages p ON p.page_id = j.project_page_id
GROUP BY p.title ORDER BY count(*) DESC LIMIT 5;
SQL
echo
echo "Explore it yourself:  psql \"$DATABASE_URL\""
