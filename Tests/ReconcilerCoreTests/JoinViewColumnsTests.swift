import ReconcilerCore
import Testing

@Suite struct JoinViewColumnsTests {
    @Test(arguments: [
        ("projects", "project"),
        ("team_members", "team_member"),
        ("tasks", "task"),
        ("tags", "tag"),
        ("categories", "category"),
        ("companies", "company"),
        ("ties", "tie"),
        ("classes", "class"),
        ("addresses", "address"),
        ("matches", "match"),
        ("wishes", "wish"),
        ("boxes", "box"),
        ("buzzes", "buzz"),
        ("cases", "case"),
        ("databases", "database"),
        ("people", "person"),
        ("children", "child"),
        ("statuses", "status"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("business", "business"),
        ("news", "news"),
        ("series", "series"),
        ("team", "team"),
        ("staff", "staff"),
        ("bus", "bus"),
        ("n2024_goals", "n2024_goal"),
        ("goals_2024", "goals_2024"),
        ("people_projects", "people_project"),
        ("unnamed", "unnamed"),
    ])
    func singular(slug: String, expected: String) {
        #expect(JoinViewNaming.singular(slug) == expected)
    }

    @Test(arguments: [
        ("Projects", "Members", "project_page_id", "member_page_id"),
        ("Projects", "Team Members", "project_page_id", "team_member_page_id"),
        ("Tasks", "Projects", "task_page_id", "project_page_id"),
        ("Employees", "People", "employee_page_id", "person_page_id"),
        ("Ordér 👥 «Members»", "Équipes", "order_member_page_id", "equipe_page_id"),
    ])
    func columnsNameEachSideAfterItsDataSource(source: String, target: String, from: String, to: String) {
        let columns = JoinViewNaming.columns(sourceDataSourceName: source, targetDataSourceName: target)
        #expect(columns.from == from)
        #expect(columns.to == to)
    }

    @Test func selfRelationsAndLookalikeNamesGetFromAndToPrefixes() {
        let selfRelation = JoinViewNaming.columns(sourceDataSourceName: "Projects", targetDataSourceName: "Projects")
        #expect(selfRelation.from == "from_project_page_id")
        #expect(selfRelation.to == "to_project_page_id")
        // Two data sources whose names singularize alike.
        let lookalike = JoinViewNaming.columns(sourceDataSourceName: "Task", targetDataSourceName: "Tasks")
        #expect(lookalike.from == "from_task_page_id")
        #expect(lookalike.to == "to_task_page_id")
    }

    @Test func anUnknownTargetIsTarget() {
        let columns = JoinViewNaming.columns(sourceDataSourceName: "Projects", targetDataSourceName: nil)
        #expect(columns == ("project_page_id", "target_page_id"))
        let clash = JoinViewNaming.columns(sourceDataSourceName: "Targets", targetDataSourceName: nil)
        #expect(clash == ("from_target_page_id", "to_target_page_id"))
    }

    @Test func longNamesStayWithin63BytesAndDistinct() {
        let long = String(repeating: "Very Long Data Source Name ", count: 5)
        let columns = JoinViewNaming.columns(sourceDataSourceName: long + "A", targetDataSourceName: long + "B")
        // The names differ only past the cut, so the cut stems clash and get prefixes.
        #expect(columns.from != columns.to)
        #expect(columns.from.utf8.count <= 63)
        #expect(columns.to.utf8.count <= 63)
        #expect(columns.from.hasPrefix("from_very_long"))
        #expect(!columns.from.contains("__"))
        let single = JoinViewNaming.columns(sourceDataSourceName: long, targetDataSourceName: "Members")
        #expect(single.from.utf8.count <= 63)
        #expect(single.from.hasSuffix("_page_id"))
    }

    @Test func columnsAreAlwaysSafeDistinctIdentifiers() {
        let names: [String?] = [
            nil, "", ";", "\"", "'", "\\", "\u{0}", "DROP TABLE x", "ü", "日本語", "position", "Position",
            "Page", "Pages", "page_id", "From", "To", "s", "ss", "ies", String(repeating: "x", count: 300),
            String(repeating: "ab_", count: 40),
        ]
        for source in names.compactMap({ $0 }) {
            for target in names {
                let columns = JoinViewNaming.columns(sourceDataSourceName: source, targetDataSourceName: target)
                for column in [columns.from, columns.to] {
                    #expect(!column.isEmpty && column.utf8.count <= 63, "\(column)")
                    #expect(column.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
                    #expect(!("0"..."9").contains(column.unicodeScalars.first!))
                    #expect(column != "position")
                }
                #expect(columns.from != columns.to, "\(source) / \(target ?? "nil")")
            }
        }
    }

    @Test func theSameNamesAlwaysGiveTheSameColumns() {
        let first = JoinViewNaming.columns(sourceDataSourceName: "Team Members", targetDataSourceName: "Projects")
        let second = JoinViewNaming.columns(sourceDataSourceName: "Team Members", targetDataSourceName: "Projects")
        #expect(first == second)
    }
}
