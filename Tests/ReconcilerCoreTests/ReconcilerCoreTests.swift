import ReconcilerCore
import Testing

@Suite struct JoinViewNamingTests {
    @Test(arguments: [
        ("Projects", "projects"),
        ("Team Members", "team_members"),
        ("  Équipe — Développeurs  ", "equipe_developpeurs"),
        ("Robert'); DROP TABLE pages;--", "robert_drop_table_pages"),
        ("select", "select"),
        ("2024 Goals", "n2024_goals"),
        ("👥", "unnamed"),
        ("a\\b\"c", "a_b_c"),
        ("Straße", "strasse"),
    ])
    func slug(input: String, expected: String) {
        #expect(JoinViewNaming.slug(input) == expected)
    }

    @Test func slugsAreAlwaysSafeIdentifiers() {
        let hostile = ["", ";", "\"", "'", "\\", "\u{0}", "DROP", "ü", "日本語", String(repeating: "x", count: 300)]
        for name in hostile {
            let slug = JoinViewNaming.slug(name)
            #expect(!slug.isEmpty)
            #expect(slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            #expect(!("0"..."9").contains(slug.unicodeScalars.first!))
        }
    }

    @Test func viewNameJoinsDataSourceAndProperty() {
        let r = JoinViewNaming.Relation(dataSourceID: "a", dataSourceName: "Projects", propertyID: "p1", propertyName: "Team Members")
        #expect(JoinViewNaming.names(for: [r])[r] == "projects__team_members")
    }

    @Test func longNamesAreCutTo63BytesWithAStableSuffix() {
        let r = JoinViewNaming.Relation(
            dataSourceID: "ds", dataSourceName: String(repeating: "Very Long Name ", count: 6),
            propertyID: "%3AxYz", propertyName: String(repeating: "Property ", count: 6))
        let name = JoinViewNaming.names(for: [r])[r]!
        #expect(name.utf8.count == 63)
        #expect(name == JoinViewNaming.names(for: [r])[r]!)
        let hashPart = name.split(separator: "_").last!
        #expect(hashPart.count == 8)
    }

    @Test func collisionsAreSettledByIdOrder() {
        let a = JoinViewNaming.Relation(dataSourceID: "1", dataSourceName: "Projects", propertyID: "a", propertyName: "Owner")
        let b = JoinViewNaming.Relation(dataSourceID: "2", dataSourceName: "projects", propertyID: "b", propertyName: "owner!")
        let names = JoinViewNaming.names(for: [b, a])
        #expect(names[a] == "projects__owner")
        #expect(names[b]!.hasPrefix("projects__owner_"))
        #expect(names[b]!.count == "projects__owner_".count + 8)
        #expect(Set(names.values).count == 2)
        // Deterministic regardless of input order.
        #expect(JoinViewNaming.names(for: [a, b]) == names)
    }
}

@Suite struct RelationAssemblyTests {
    @Test func inlineListIsUsedWhenComplete() throws {
        let t = try RelationAssembly.targets(pageID: "p", propertyID: "r", inline: ["a", "b"], hasMore: false, completed: nil)
        #expect(t == [RelationTarget(pageID: "a", position: 0), RelationTarget(pageID: "b", position: 1)])
    }

    @Test func truncatedListWithoutCompletionIsAnError() {
        #expect(throws: RelationAssemblyError.incomplete(pageID: "p", propertyID: "r")) {
            try RelationAssembly.targets(pageID: "p", propertyID: "r", inline: ["a"], hasMore: true, completed: nil)
        }
    }

    @Test func completedListSupersedesInline() throws {
        let full = (0..<1003).map { "t\($0)" }
        let t = try RelationAssembly.targets(pageID: "p", propertyID: "r", inline: Array(full.prefix(25)), hasMore: true, completed: full)
        #expect(t.count == 1003)
        #expect(t.last == RelationTarget(pageID: "t1002", position: 1002))
    }

    @Test func duplicatesKeepTheirFirstPosition() throws {
        let t = try RelationAssembly.targets(pageID: "p", propertyID: "r", inline: ["a", "b", "a", "c"], hasMore: false, completed: nil)
        #expect(t.map(\.pageID) == ["a", "b", "c"])
        #expect(t.map(\.position) == [0, 1, 3])
    }
}

@Suite struct ForwardPaginationOptimumTests {
    @Test(arguments: [
        ([0], [Int](), 1),
        ([100], [], 1),
        ([101], [], 2),
        ([300, 1200], [26, 101, 1003], 3 + 12 + 1 + 2 + 11),
    ])
    func optimum(pages: [Int], truncated: [Int], expected: Int) {
        #expect(ForwardPaginationOptimum.calls(pagesPerDataSource: pages, truncatedRelationSizes: truncated) == expected)
    }
}
