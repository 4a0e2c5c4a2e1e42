/// One target of a relation list: the related page and its 0-based place in Notion's order.
public struct RelationTarget: Sendable, Hashable {
    public var pageID: String
    /// Index in Notion's relation list; nil where the order is not known.
    public var position: Int?

    public init(pageID: String, position: Int?) {
        self.pageID = pageID
        self.position = position
    }
}

/// Why a relation list could not be assembled.
public enum RelationAssemblyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The page object said `has_more` but no complete list was supplied.
    case incomplete(pageID: String, propertyID: String)

    public var description: String {
        switch self {
        case .incomplete(let pageID, let propertyID):
            return "relation \(propertyID) of page \(pageID) has more than 25 references but was not completed"
        }
    }
}

/// Turns what Notion returned for one page's relation into its complete, ordered edge list.
public enum RelationAssembly {
    /// - Parameters:
    ///   - inline: the references in the page object (Notion shows at most 25).
    ///   - hasMore: the page object's `has_more` for that relation.
    ///   - completed: the whole list from the property-item endpoint, when it was read. It
    ///     supersedes `inline`: it starts at the same first reference and is fresher.
    /// - Returns: targets in Notion's order, each page once (its first occurrence wins).
    public static func targets(
        pageID: String,
        propertyID: String,
        inline: [String],
        hasMore: Bool,
        completed: [String]?
    ) throws(RelationAssemblyError) -> [RelationTarget] {
        var result: [RelationTarget] = []
        result.reserveCapacity((completed ?? inline).count)
        try forEachTarget(pageID: pageID, propertyID: propertyID, inline: inline, hasMore: hasMore, completed: completed) {
            result.append(RelationTarget(pageID: $0, position: $1))
        }
        return result
    }

    /// The same assembly for any kind of page id (parsed UUIDs, say), without building a list:
    /// `body` gets each target once, in Notion's order, with its 0-based position.
    public static func forEachTarget<ID: Hashable>(
        pageID: String,
        propertyID: String,
        inline: [ID],
        hasMore: Bool,
        completed: [ID]?,
        _ body: (ID, Int) -> Void
    ) throws(RelationAssemblyError) {
        let list: [ID]
        if let completed {
            list = completed
        } else if hasMore {
            throw .incomplete(pageID: pageID, propertyID: propertyID)
        } else {
            list = inline
        }
        if list.count <= 25 {
            // Short lists (nearly all of them): a linear scan beats hashing.
            for (index, id) in list.enumerated() where !list[..<index].contains(id) { body(id, index) }
            return
        }
        var seen = Set<ID>()
        seen.reserveCapacity(list.count)
        for (index, id) in list.enumerated() where seen.insert(id).inserted { body(id, index) }
    }
}

/// The fewest API calls that read a workspace by forward pagination alone.
///
/// PRODUCT.md's yardstick: Σ ⌈pages/100⌉ per data source read + Σ ⌈r/100⌉ over truncated
/// relations (a relation of r references whose page object said `has_more`: the property-item
/// endpoint returns 100 per call from the start). A data source with no pages still costs one
/// query call to learn that, so each data source counts at least 1.
public enum ForwardPaginationOptimum {
    public static let pageSize = 100

    public static func calls(pagesPerDataSource: [Int], truncatedRelationSizes: [Int]) -> Int {
        let queries = pagesPerDataSource.reduce(0) { $0 + max(1, ceilDiv($1, pageSize)) }
        let items = truncatedRelationSizes.reduce(0) { $0 + ceilDiv($1, pageSize) }
        return queries + items
    }

    private static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
