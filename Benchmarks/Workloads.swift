import Foundation
import NotionSimulator

/// A data source listed under `sync:` in the generated config.
struct ConfiguredSource: Sendable {
    var id: UUID
    /// Relation property names; nil: every relation.
    var relations: [String]?
    var writeBack: WriteBack?

    struct WriteBack: Sendable {
        var relation: String
        var property: String
        var format: String
    }
}

/// A simulated workspace and what relsync is told to read from it.
struct Workload: Sendable {
    var name: String
    var spec: WorkspaceSpec
    var configured: [ConfiguredSource]
    /// Every data source relsync reads: the configured ones and the targets of their relations.
    var readSources: [UUID]

    /// The edges relsync must store: every relation list of the configured data sources.
    func expectedEdges(_ truth: GroundTruth) -> Int {
        let configured = Set(configured.map(\.id))
        return truth.relations.reduce(0) { $0 + (configured.contains($1.key.dataSourceID) ? $1.value.count : 0) }
    }

    /// The forward-pagination optimum, computed here from the simulator's ground truth (not taken
    /// from relsync's own report): Σ max(1, ⌈pages/100⌉) over the data sources read, plus
    /// Σ ⌈r/100⌉ over the relation lists of the configured data sources longer than the 25 a page
    /// object shows.
    func forwardOptimum(_ truth: GroundTruth, relationValueLimit: Int = 25) -> Int {
        let configured = Set(configured.map(\.id))
        let queries = readSources.reduce(0) { $0 + max(1, ceilDiv(truth.pages[$1]?.count ?? 0, 100)) }
        let items = truth.relations.reduce(0) { sum, entry in
            guard configured.contains(entry.key.dataSourceID), entry.value.count > relationValueLimit else { return sum }
            return sum + ceilDiv(entry.value.count, 100)
        }
        return queries + items
    }

    /// Pages of the data sources read (what a full reconcile reads).
    func pagesRead(_ truth: GroundTruth) -> Int {
        readSources.reduce(0) { $0 + (truth.pages[$1]?.count ?? 0) }
    }
}

func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

enum Workloads {
    /// The generated workspace: Projects ↔ Members (dual), skewed team sizes; both sides
    /// configured (every relation), with the "Team Members (all)" names summary written back.
    static func generated(seed: UInt64, projects: Int = 2_000, members: Int = 5_000, writeBack: Bool) -> Workload {
        let spec = WorkspaceSpec.bench(seed: seed, BenchParameters(projects: projects, members: members))
        let projectsDS = spec.dataSource(named: PresetNames.projects)!
        let membersDS = spec.dataSource(named: PresetNames.members)!
        let wb = writeBack
            ? ConfiguredSource.WriteBack(relation: PresetNames.teamMembers, property: PresetNames.teamMembersAll, format: "names")
            : nil
        return Workload(
            name: "generated workspace (\(projects.formatted()) projects ↔ \(members.formatted()) members)",
            spec: spec,
            configured: [ConfiguredSource(id: projectsDS.id, relations: nil, writeBack: wb),
                         ConfiguredSource(id: membersDS.id, relations: nil, writeBack: nil)],
            readSources: [projectsDS.id, membersDS.id])
    }

    /// One page whose dual relation holds 1,003 references (the Members side is read for titles).
    static func onePage(seed: UInt64, references: Int = 1_003) -> Workload {
        var spec = WorkspaceSpec(seed: seed, workspaceName: "One page, \(references) references")
        let projects = spec.addDataSource(PresetNames.projects)
        let members = spec.addDataSource(PresetNames.members)
        let team = spec.addRelation(PresetNames.teamMembers, from: projects, to: members, syncedName: PresetNames.memberProjects)
        let ids = spec.addPages(references, to: members) { "Member \($0 + 1)" }
        let everyone = spec.addPage(PresetNames.everyone, to: projects)
        spec.setRelation(team.property, of: everyone, to: ids)
        return Workload(
            name: "one page, \(references.formatted()) references",
            spec: spec,
            configured: [ConfiguredSource(id: projects.id, relations: nil, writeBack: nil)],
            readSources: [projects.id, members.id])
    }

    /// About `edges` edges on one single (one-way) relation Items → People: skewed list sizes
    /// (half within the 25 a page object shows, a long tail to 1,000), 10,000 target pages.
    static func synthetic(seed: UInt64, edges: Int) -> Workload {
        var spec = WorkspaceSpec(seed: seed, workspaceName: "Synthetic, \(edges) edges")
        let items = spec.addDataSource("Items")
        let people = spec.addDataSource("People")
        let links = spec.addRelation("Links", from: items, to: people)
        let targetCount = min(10_000, max(1_000, edges / 10))
        let targets = spec.addPages(targetCount, to: people) { "Person \($0 + 1)" }
        var rng = SplitMix64(seed: seed &+ 0x5eed)
        var remaining = edges
        var index = 0
        while remaining > 0 {
            let roll = rng.unit()
            var size: Int
            switch roll {
            case ..<0.50: size = rng.int(in: 0...25)
            case ..<0.85: size = rng.int(in: 26...100)
            case ..<0.98: size = rng.int(in: 101...300)
            default: size = rng.int(in: 301...1_000)
            }
            size = min(size, remaining, targets.count)
            let page = spec.addPage("Item \(index + 1)", to: items)
            index += 1
            if size > 0 {
                spec.setRelation(links.property, of: page, to: rng.sample(size, of: targets))
            }
            remaining -= size
        }
        return Workload(
            name: "synthetic workspace, \(edges.formatted()) edges (\(index.formatted()) items → \(targetCount.formatted()) people)",
            spec: spec,
            configured: [ConfiguredSource(id: items.id, relations: nil, writeBack: nil)],
            readSources: [items.id, people.id])
    }
}

/// A small seeded generator (SplitMix64) for the benchmark's own synthetic data.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// `count` distinct elements of `pool`, in random order.
    mutating func sample<T>(_ count: Int, of pool: [T]) -> [T] {
        guard count > 0 else { return [] }
        if count * 3 > pool.count { return Array(pool.shuffled(using: &self).prefix(count)) }
        var chosen = Set<Int>()
        var order: [Int] = []
        order.reserveCapacity(count)
        while order.count < count {
            let i = Int.random(in: 0..<pool.count, using: &self)
            if chosen.insert(i).inserted { order.append(i) }
        }
        return order.map { pool[$0] }
    }

    mutating func uuid() -> UUID {
        var a = next(), b = next()
        // RFC 4122 version 4 / variant bits, so PostgreSQL and Foundation agree on the text form.
        a = (a & 0xffff_ffff_ffff_0fff) | 0x4000
        b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        let bytes = withUnsafeBytes(of: a.bigEndian) { Array($0) } + withUnsafeBytes(of: b.bigEndian) { Array($0) }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
