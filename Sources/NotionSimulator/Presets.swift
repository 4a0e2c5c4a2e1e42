import Foundation

/// Counts for the demo workspace.
public struct DemoParameters: Sendable {
    public var projects = 300
    public var members = 1_200
    public var tasks = 600
    public var tags = 40
    /// Members of the project "Everyone".
    public var everyoneSize = 1_003
    /// Team sizes given to one project each, right after "Everyone".
    public var exactSizes = [25, 26, 100, 101]

    public init(projects: Int = 300, members: Int = 1_200, tasks: Int = 600, tags: Int = 40,
                everyoneSize: Int = 1_003, exactSizes: [Int] = [25, 26, 100, 101]) {
        self.projects = projects
        self.members = members
        self.tasks = tasks
        self.tags = tags
        self.everyoneSize = everyoneSize
        self.exactSizes = exactSizes
    }
}

/// Counts for the benchmark workspace.
public struct BenchParameters: Sendable {
    public var projects = 2_000
    public var members = 5_000

    public init(projects: Int = 2_000, members: Int = 5_000) {
        self.projects = projects
        self.members = members
    }
}

/// Relation sizes for the edge-case workspace.
public struct EdgeCaseParameters: Sendable {
    /// One source page per size, on the dual relation and on both single relations.
    public var sizes = [0, 1, 25, 26, 100, 101, 1_003]

    public init(sizes: [Int] = [0, 1, 25, 26, 100, 101, 1_003]) {
        self.sizes = sizes
    }
}

/// Names used by the presets, so tests and scripts can find things without string literals.
public enum PresetNames {
    public static let projects = "Projects"
    public static let members = "Members"
    public static let tasks = "Tasks"
    public static let tags = "Tags"
    public static let teamMembers = "Team Members"
    public static let memberProjects = "Projects"
    public static let teamMembersAll = "Team Members (all)"
    public static let taskProject = "Project"
    public static let taskTags = "Tags"
    public static let everyone = "Everyone"

    public static let edgeSources = #"Edge "Sources"; DROP TABLE pages; --"#
    public static let edgeMembers = #"Ordér 👥 «Members» \ back\slash"#
    public static let edgeUnconfigured = "Unconfigured targets"
    public static let edgeDual = #"Team "Members"; \ select"#
    public static let edgeDualBack = "Sources ↩︎ 🔗"
    public static let edgeLongSingle = "🚀 Launch targets that live in a data source relsync is never configured to read"
    public static let edgeOrder = "Order"
    public static let edgeParent = "Parent"
    public static let edgeChildren = "Children"
    public static let edgeSeeAlso = "See also"
    public static let edgeNotes = "Notes; DROP TABLE x"
}

extension WorkspaceSpec {
    /// Projects ↔ Members (dual "Team Members" / "Projects"), Tasks → Projects (single "Project"),
    /// Tasks → Tags (single "Tags"; Tags sits in its own database that relsync is not configured
    /// for), and a rich_text "Team Members (all)" on Projects for write-back.
    public static func demo(seed: UInt64 = 1, _ parameters: DemoParameters = DemoParameters()) -> WorkspaceSpec {
        var spec = WorkspaceSpec(seed: seed, workspaceName: "Acme (demo)")
        spec.label = "demo"
        let projects = spec.addDataSource(PresetNames.projects)
        let members = spec.addDataSource(PresetNames.members)
        let tasks = spec.addDataSource(PresetNames.tasks)
        let tags = spec.addDataSource(PresetNames.tags)

        let team = spec.addRelation(PresetNames.teamMembers, from: projects, to: members,
                                    syncedName: PresetNames.memberProjects)
        _ = spec.addProperty(PresetNames.teamMembersAll, type: .richText, to: projects)
        let status = spec.addProperty("Status", type: .select, to: projects, options: ["Planning", "Active", "Done"])
        let budget = spec.addProperty("Budget", type: .number, to: projects)
        let email = spec.addProperty("Email", type: .richText, to: members)
        let active = spec.addProperty("Active", type: .checkbox, to: members)
        let taskProject = spec.addRelation(PresetNames.taskProject, from: tasks, to: projects)
        let taskTags = spec.addRelation(PresetNames.taskTags, from: tasks, to: tags)
        let done = spec.addProperty("Done", type: .checkbox, to: tasks)

        var names = NameGenerator(seed: seed)
        let memberIDs = spec.addPages(parameters.members, to: members) { _ in names.person() }
        for id in memberIDs {
            let name = spec.title(of: id)
            spec.setText(email, of: id, to: name.lowercased().replacingOccurrences(of: " ", with: ".") + "@example.com")
            spec.setCheckbox(active, of: id, to: spec.model.rng.chance(0.85))
        }
        let tagIDs = spec.addPages(parameters.tags, to: tags) { names.tag($0) }

        var projectIDs: [UUID] = []
        for index in 0..<parameters.projects {
            let title = index == 0 ? PresetNames.everyone : names.project(index)
            let id = spec.addPage(title, to: projects)
            projectIDs.append(id)
            let size: Int
            if index == 0 {
                size = parameters.everyoneSize
            } else if index <= parameters.exactSizes.count {
                size = parameters.exactSizes[index - 1]
            } else {
                size = skewedSize(&spec.model.rng, bands: [(0.70, 0...10), (0.20, 11...24), (0.08, 27...60), (0.02, 120...300)])
            }
            spec.setRelation(team.property, of: id, to: sample(min(size, memberIDs.count), of: memberIDs, &spec.model.rng))
            spec.setSelect(status, of: id, to: ["Planning", "Active", "Done"].randomElement(using: &spec.model.rng))
            spec.setNumber(budget, of: id, to: Double(Int.random(in: 1...500, using: &spec.model.rng) * 1_000))
        }

        for index in 0..<parameters.tasks {
            let id = spec.addPage(names.task(index), to: tasks)
            let projectCount = skewedSize(&spec.model.rng, bands: [(0.10, 0...0), (0.85, 1...1), (0.05, 2...2)])
            spec.setRelation(taskProject.property, of: id, to: sample(min(projectCount, projectIDs.count), of: projectIDs, &spec.model.rng))
            spec.setRelation(taskTags.property, of: id, to: sample(min(Int.random(in: 0...3, using: &spec.model.rng), tagIDs.count), of: tagIDs, &spec.model.rng))
            spec.setCheckbox(done, of: id, to: spec.model.rng.chance(0.4))
        }
        return spec
    }

    /// Projects ↔ Members at benchmark scale, with skewed team sizes.
    public static func bench(seed: UInt64 = 1, _ parameters: BenchParameters = BenchParameters()) -> WorkspaceSpec {
        var spec = WorkspaceSpec(seed: seed, workspaceName: "Acme (bench)")
        spec.label = "bench"
        let projects = spec.addDataSource(PresetNames.projects)
        let members = spec.addDataSource(PresetNames.members)
        let team = spec.addRelation(PresetNames.teamMembers, from: projects, to: members,
                                    syncedName: PresetNames.memberProjects)
        _ = spec.addProperty(PresetNames.teamMembersAll, type: .richText, to: projects)
        var names = NameGenerator(seed: seed)
        let memberIDs = spec.addPages(parameters.members, to: members) { _ in names.person() }
        for index in 0..<parameters.projects {
            let id = spec.addPage(names.project(index), to: projects)
            let size = skewedSize(&spec.model.rng, bands: [
                (0.60, 0...10), (0.25, 11...30), (0.10, 31...100), (0.04, 101...400), (0.01, 401...1_500),
            ])
            spec.setRelation(team.property, of: id, to: sample(min(size, memberIDs.count), of: memberIDs, &spec.model.rng))
        }
        return spec
    }

    /// Relation sizes at every boundary on a dual and two single relations, a target data source
    /// that relsync will not be configured for, self-relations, a trashed target, and hostile
    /// names (quotes, semicolons, backslashes, emoji, SQL keywords, names over 70 bytes).
    public static func edgeCases(seed: UInt64 = 1, _ parameters: EdgeCaseParameters = EdgeCaseParameters()) -> WorkspaceSpec {
        var spec = WorkspaceSpec(seed: seed, workspaceName: "Edge cases")
        spec.label = "edge-cases"
        let sources = spec.addDataSource(PresetNames.edgeSources, titleProperty: "select")
        let members = spec.addDataSource(PresetNames.edgeMembers, titleProperty: "Order")
        let unconfigured = spec.addDataSource(PresetNames.edgeUnconfigured)

        let dual = spec.addRelation(PresetNames.edgeDual, from: sources, to: members,
                                    syncedName: PresetNames.edgeDualBack, rawID: ":xYz", syncedRawID: "b}>k")
        let long = spec.addRelation(PresetNames.edgeLongSingle, from: sources, to: unconfigured, rawID: #"f\\:p"#)
        let order = spec.addRelation(PresetNames.edgeOrder, from: sources, to: members, rawID: "%zz!")
        let parent = spec.addRelation(PresetNames.edgeParent, from: sources, to: sources,
                                      syncedName: PresetNames.edgeChildren, rawID: "{p}", syncedRawID: "<c>")
        let seeAlso = spec.addRelation(PresetNames.edgeSeeAlso, from: sources, to: sources, rawID: "s;e^")
        let notes = spec.addProperty(PresetNames.edgeNotes, type: .richText, to: sources, rawID: "n|t@")

        let targetCount = (parameters.sizes.max() ?? 0) + 20
        let hostile = [#"O'Brien "quoted""#, "semi;colon", #"back\slash"#, "emoji 🎉👥", "", "select * from pages;",
                       "Ünïcödé — ñ", String(repeating: "long name ", count: 9)]
        let memberIDs = spec.addPages(targetCount, to: members) { index in
            index < hostile.count ? hostile[index] : "Member \(index)"
        }
        let targetIDs = spec.addPages(targetCount, to: unconfigured) { "Target \($0)" }

        var sourceIDs: [UUID] = []
        for (offset, size) in parameters.sizes.enumerated() {
            let id = spec.addPage("size \(size)", to: sources)
            sourceIDs.append(id)
            spec.setRelation(dual.property, of: id, to: Array(memberIDs.prefix(size)))
            spec.setRelation(long.property, of: id, to: Array(targetIDs.prefix(size)))
            // A different slice, so the single relation's lists differ from the dual one's.
            let start = offset % max(1, memberIDs.count - size)
            spec.setRelation(order.property, of: id, to: Array(memberIDs[start..<(start + size)].reversed()))
            spec.setText(notes, of: id, to: "size \(size); \"quoted\" \\ note")
        }
        for title in hostile {
            sourceIDs.append(spec.addPage(title, to: sources))
        }
        // Self-relations: a chain of parents, and a "see also" ring.
        for (index, id) in sourceIDs.enumerated() {
            if index > 0 { spec.setRelation(parent.property, of: id, to: [sourceIDs[index - 1]]) }
            spec.setRelation(seeAlso.property, of: id, to: [sourceIDs[(index + 1) % sourceIDs.count], id])
        }
        // A relation whose stored list includes a trashed page: clients see two of three.
        let trashed = spec.addPage("Trashed member", to: members)
        let withTrashed = spec.addPage("with a trashed target", to: sources)
        spec.setRelation(dual.property, of: withTrashed, to: [memberIDs[0], trashed, memberIDs[1]])
        spec.trashPage(trashed)
        // A trashed source page: it must not appear in queries or in the ground truth.
        let trashedSource = spec.addPage("Trashed source", to: sources)
        spec.setRelation(dual.property, of: trashedSource, to: Array(memberIDs.prefix(3)))
        spec.trashPage(trashedSource)
        return spec
    }
}

/// A size drawn from weighted bands.
private func skewedSize(_ rng: inout SeededGenerator, bands: [(Double, ClosedRange<Int>)]) -> Int {
    var roll = Double.random(in: 0..<1, using: &rng)
    for (weight, range) in bands {
        if roll < weight { return Int.random(in: range, using: &rng) }
        roll -= weight
    }
    return Int.random(in: bands.last!.1, using: &rng)
}

/// `count` distinct elements in random order.
private func sample(_ count: Int, of ids: [UUID], _ rng: inout SeededGenerator) -> [UUID] {
    guard count > 0 else { return [] }
    if count * 4 > ids.count { return Array(ids.shuffled(using: &rng).prefix(count)) }
    var chosen = Set<Int>()
    var order: [Int] = []
    while order.count < count {
        let index = Int.random(in: 0..<ids.count, using: &rng)
        if chosen.insert(index).inserted { order.append(index) }
    }
    return order.map { ids[$0] }
}

/// Deterministic, readable titles.
struct NameGenerator {
    var rng: SeededGenerator
    init(seed: UInt64) { rng = SeededGenerator(seed: seed, stream: "names") }

    static let first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim",
                        "Margaret", "Dennis", "Katherine", "John", "Hedy", "Linus", "Sophie", "Guido", "Annie", "Bjarne",
                        "Zoë", "José", "Mëlanie", "Øystein", "Chloé", "Seán", "Ngozi", "Hiroshi", "Priya", "Mateo"]
    static let last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
                       "Berners-Lee", "Hamilton", "Ritchie", "Johnson", "McCarthy", "Lamarr", "Torvalds", "Wilson",
                       "van Rossum", "Easley", "Stroustrup", "O'Neil", "García", "Müller", "Nakamura", "Okafor", "Patel"]
    static let adjectives = ["Apollo", "Blue", "Crimson", "Delta", "Emerald", "Falcon", "Granite", "Horizon", "Indigo",
                             "Juniper", "Kestrel", "Lumen", "Maple", "Nimbus", "Orion", "Polar", "Quartz", "Raven"]
    static let nouns = ["Launch", "Migration", "Redesign", "Audit", "Pipeline", "Dashboard", "Onboarding", "Rollout",
                        "Integration", "Research", "Cleanup", "Campaign", "Platform", "Survey", "Release"]

    mutating func person() -> String {
        "\(Self.first.randomElement(using: &rng)!) \(Self.last.randomElement(using: &rng)!)"
    }

    mutating func project(_ index: Int) -> String {
        "\(Self.adjectives.randomElement(using: &rng)!) \(Self.nouns.randomElement(using: &rng)!) \(index)"
    }

    func task(_ index: Int) -> String { "Task \(index + 1)" }
    func tag(_ index: Int) -> String { "tag-\(index + 1)" }
}
