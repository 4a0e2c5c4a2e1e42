import Foundation
import NotionClient
import SyncKit
import Testing

@Suite struct ConfigurationTests {
    let env = ["NOTION_TOKEN": "ntn_secret_token_value", "DATABASE_URL": "postgresql://u:pw-s3cret@127.0.0.1:5432/db"]
    let ds = "2f1c0c7e-1111-4222-8333-444455556666"

    func parse(_ yaml: String, env: [String: String]? = nil) throws(ConfigError) -> RelsyncConfiguration {
        try RelsyncConfiguration.parse(yaml: yaml, path: "relsync.yaml", environment: env ?? self.env)
    }

    /// Commands that only read PostgreSQL (status, export, report, prune-history, migrate) run
    /// on a machine without the Notion token; reconcile still insists on it.
    @Test func postgresOnlyCommandsNeedNoToken() throws {
        let yaml = """
            notion:
              token: ${NOTION_TOKEN}
            postgres:
              schema: analytics
            sync:
              - data_source: \(ds)
            """
        let env = ["HOME": "/tmp"]
        #expect(throws: ConfigError.self) { try RelsyncConfiguration.parse(yaml: yaml, path: "relsync.yaml", environment: env) }
        let config = try RelsyncConfiguration.parse(yaml: yaml, path: "relsync.yaml", environment: env, needsNotion: false)
        #expect(config.notion.token == "")
        #expect(config.secrets.isEmpty)
        #expect(config.postgres.schema == "analytics")
        let set = try RelsyncConfiguration.parse(yaml: yaml, path: "relsync.yaml", environment: self.env, needsNotion: false)
        #expect(set.notion.token == "ntn_secret_token_value")
        // Everything else is still checked.
        #expect(throws: ConfigError.self) {
            try RelsyncConfiguration.parse(
                yaml: yaml.replacingOccurrences(of: "schema: analytics", with: "schema: [1]"), path: "relsync.yaml",
                environment: env, needsNotion: false)
        }
    }

    @Test func fullExampleParses() throws {
        let config = try parse("""
            notion:
              token: ${NOTION_TOKEN}
              base_url: https://api.notion.com/
              version: "2026-03-11"
              requests_per_window: 180
              window_seconds: 60
            postgres:
              url: ${DATABASE_URL}
              schema: analytics
            sync:
              - data_source: 2f1c0c7e111142228333444455556666
                relations: [Team Members]
                write_back:
                  - relation: Team Members
                    property: Team Members (all)
                    format: mentions
              - database: 668d797c-76fa-4934-9b05-ad288df2d136
            """)
        #expect(config.notion.token == "ntn_secret_token_value")
        #expect(config.notion.baseURL == "https://api.notion.com")
        #expect(config.notion.version == "2026-03-11")
        #expect(config.notion.rateLimit == .window(requests: 180, seconds: 60))
        #expect(config.postgres.url == "postgresql://u:pw-s3cret@127.0.0.1:5432/db")
        #expect(config.postgres.schema == "analytics")
        #expect(config.postgres.viewsSchema == "notion")
        #expect(config.sync.count == 2)
        #expect(config.sync[0].source == .dataSource(ds))
        #expect(config.sync[0].relations == ["Team Members"])
        #expect(config.sync[0].writeBack.first?.format == .mentions)
        #expect(config.sync[1].source == .database("668d797c-76fa-4934-9b05-ad288df2d136"))
        #expect(config.sync[1].relations == nil)
        #expect(config.secrets.contains("ntn_secret_token_value"))
        #expect(config.secrets.contains("pw-s3cret"))
    }

    @Test func defaultsAreNotionsAverageRate() throws {
        let config = try parse("notion:\n  token: t0k3n\nsync:\n  - data_source: \(ds)\n")
        #expect(config.notion.rateLimit == .average(requestsPerSecond: 3, burst: 3))
        #expect(config.notion.baseURL == "https://api.notion.com")
        #expect(config.notion.version == "2025-09-03")
        #expect(config.notion.maxConcurrentRequests == 3)
        #expect(config.postgres.url == nil)
        #expect(config.postgres.schema == "relsync")
    }

    @Test(arguments: [
        ("notion:\n  token: ${MISSING_VAR}\nsync:\n  - data_source: DS\n", "relsync.yaml:2: notion.token refers to ${MISSING_VAR}, which is not set in the environment"),
        ("notion:\n  tokn: x\nsync:\n  - data_source: DS\n", "relsync.yaml:2: unknown key notion.tokn (did you mean token?)"),
        ("notion:\n  token: x\nsync:\n  - data_source: not-a-uuid\n", "relsync.yaml:4: sync[0].data_source \"not-a-uuid\" is not a Notion id (32 hex digits, with or without dashes)"),
        ("notion:\n  token: x\n", "relsync.yaml:1: the sync: section is missing (list the data sources to sync)"),
        ("notion:\n  token: x\nsync:\n  - data_source: DS\n    relation: [A]\n", "relsync.yaml:5: unknown key sync[0].relation (did you mean relations?)"),
        ("notion:\n  token: x\n  base_url: http://api.example.com\nsync:\n  - data_source: DS\n", "relsync.yaml:3: notion.base_url uses plain http to api.example.com; only loopback addresses may (set notion.allow_insecure_http: true to override)"),
        ("notion:\n  token: x\n  requests_per_second: 3\n  requests_per_window: 180\n  window_seconds: 60\nsync:\n  - data_source: DS\n", "relsync.yaml:4: give either notion.requests_per_second or notion.requests_per_window, not both"),
        ("notion:\n  token: x\nsync:\n  - data_source: DS\n    write_back:\n      - relation: A\n        property: B\n        format: html\n", "relsync.yaml:8: sync[0].write_back[0].format must be names, json or mentions, not \"html\""),
        ("notion: [\n", "relsync.yaml:2: not valid YAML: did not find expected node content"),
    ])
    func badConfigsNameTheProblem(yaml: String, expected: String) {
        let text = yaml.replacingOccurrences(of: "DS", with: ds)
        do {
            _ = try parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func plainHTTPToLoopbackIsAllowed() throws {
        let config = try parse("notion:\n  token: x\n  base_url: http://127.0.0.1:8080\nsync:\n  - data_source: \(ds)\n")
        #expect(config.notion.baseURL == "http://127.0.0.1:8080")
    }

    @Test func missingFileIsAConfigError() {
        #expect(throws: ConfigError.self) { try RelsyncConfiguration.load(path: "/nonexistent/relsync.yaml") }
    }

    @Test func passwordsAreFoundInURIsAndConninfo() throws {
        let uri = try parse("notion:\n  token: tok123\npostgres:\n  url: postgresql://me:p%40ss@h/db\nsync:\n  - data_source: \(ds)\n")
        #expect(uri.secrets.contains("p@ss"))
        let kv = try parse("notion:\n  token: tok123\npostgres:\n  url: host=h password='hunter22' dbname=x\nsync:\n  - data_source: \(ds)\n")
        #expect(kv.secrets.contains("hunter22"))
    }

    @Test func redactorScrubsEverySecret() {
        let r = Redactor(["ntn_secret_token_value", "pw-s3cret"])
        #expect(r.scrub("token ntn_secret_token_value and pw-s3cret") == "token *** and ***")
    }
}
