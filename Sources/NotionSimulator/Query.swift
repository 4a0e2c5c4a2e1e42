import Foundation

enum TimestampField: String {
    case createdTime = "created_time"
    case lastEditedTime = "last_edited_time"
}

enum DateComparison: String, CaseIterable {
    case equals, before, after
    case onOrBefore = "on_or_before"
    case onOrAfter = "on_or_after"
}

enum DateCondition {
    case compare(DateComparison, Timestamp.Parsed)
    case isEmpty(Bool)
    /// `past_week` and friends: an inclusive range of instants.
    case range(Millis, Millis)

    /// `value` is the minute-rounded timestamp a client sees: filters cannot tell apart times
    /// within one minute, as on Notion.
    func matches(_ value: Millis?) -> Bool {
        switch self {
        case .isEmpty(let wantEmpty): return (value == nil) == wantEmpty
        case .range(let start, let end):
            guard let value else { return false }
            return value >= start && value <= end
        case .compare(let op, let operand):
            guard let value else { return false }
            switch operand {
            case .instant(let t):
                switch op {
                case .equals: return value == t
                case .before: return value < t
                case .after: return value > t
                case .onOrBefore: return value <= t
                case .onOrAfter: return value >= t
                }
            case .day(let start):
                let end = start + Timestamp.day
                switch op {
                case .equals: return value >= start && value < end
                case .before: return value < start
                case .after: return value >= end
                case .onOrBefore: return value < end
                case .onOrAfter: return value >= start
                }
            }
        }
    }
}

enum PropertyCondition {
    case relationContains(UUID)
    case relationDoesNotContain(UUID)
    case relationEmpty(Bool)
    case text(String, String)  // operator, operand
    case textEmpty(Bool)
    case number(String, Double)
    case numberEmpty(Bool)
    case selectEquals(String, negate: Bool)
    case selectEmpty(Bool)
    case checkbox(Bool)
}

indirect enum FilterNode {
    case and([FilterNode])
    case or([FilterNode])
    case timestamp(TimestampField, DateCondition)
    case property(PropertyRecord, PropertyCondition)
}

enum SortTarget {
    case timestamp(TimestampField)
    case property(PropertyRecord)
}

struct SortSpec {
    var target: SortTarget
    var ascending: Bool
}

/// Which rows a query walks, by trash / archive state.
enum RowScope: String {
    case live, trashed, archived
}

/// A parsed query: what a cursor chain is bound to.
struct QueryPlan {
    var filter: FilterNode?
    var sorts: [SortSpec]
    var scope: RowScope
    /// Identifies the filter+sort combination; cursors only continue the walk they came from.
    var fingerprint: String
}

/// A sortable value; empty values sort last in either direction.
enum SortScalar {
    case empty
    case number(Double)
    case string(String)

    static func compare(_ a: SortScalar, _ b: SortScalar, ascending: Bool) -> Int {
        switch (a, b) {
        case (.empty, .empty): return 0
        case (.empty, _): return 1
        case (_, .empty): return -1
        case (.number(let x), .number(let y)): return ascending ? (x < y ? -1 : x > y ? 1 : 0) : (x > y ? -1 : x < y ? 1 : 0)
        case (.string(let x), .string(let y)): return ascending ? (x < y ? -1 : x > y ? 1 : 0) : (x > y ? -1 : x < y ? 1 : 0)
        case (.number, .string): return -1
        case (.string, .number): return 1
        }
    }
}

/// A row's position in a sorted walk: the sort values, then creation time and id as tie-breakers.
struct RowKey {
    var values: [SortScalar]
    var created: Millis
    var id: String

    /// -1, 0 or 1.
    static func compare(_ a: RowKey, _ b: RowKey, sorts: [SortSpec]) -> Int {
        for (index, sort) in sorts.enumerated() {
            let c = SortScalar.compare(a.values[index], b.values[index], ascending: sort.ascending)
            if c != 0 { return c }
        }
        if a.created != b.created { return a.created < b.created ? -1 : 1 }
        if a.id != b.id { return a.id < b.id ? -1 : 1 }
        return 0
    }
}

/// Parses the query body's `filter` and `sorts` against one data source's schema.
struct QueryParser {
    let source: DataSourceRecord
    let now: Millis

    func parseFilter(_ json: JSONValue, path: String) throws(APIError) -> FilterNode {
        guard let object = json.objectValue else {
            throw .validation("\(path) should be an object, instead was `\(json.serializedString())`.")
        }
        for compound in ["and", "or"] where object[compound] != nil {
            guard object.count == 1 else {
                throw .validation("\(path) should have only one of `and`, `or`, `property`, `timestamp`.")
            }
            guard let items = object[compound]!.arrayValue else {
                throw .validation("\(path).\(compound) should be an array, instead was `\(object[compound]!.serializedString())`.")
            }
            guard items.count <= 100 else {
                throw .validation("\(path).\(compound).length should be ≤ 100, instead was `\(items.count)`.")
            }
            var nodes: [FilterNode] = []
            for (index, item) in items.enumerated() {
                nodes.append(try parseFilter(item, path: "\(path).\(compound)[\(index)]"))
            }
            return compound == "and" ? .and(nodes) : .or(nodes)
        }
        if let timestamp = object["timestamp"] {
            guard let name = timestamp.stringValue, let field = TimestampField(rawValue: name) else {
                throw .validation("\(path).timestamp should be `\"created_time\"` or `\"last_edited_time\"`, instead was `\(timestamp.serializedString())`.")
            }
            let extra = object.keys.filter { $0 != "timestamp" && $0 != field.rawValue }
            guard extra.isEmpty else { throw .validation("\(path).\(extra[0]) should not be present.") }
            guard let condition = object[field.rawValue] else {
                throw .validation("\(path).\(field.rawValue) should be defined, instead was `undefined`.")
            }
            return .timestamp(field, try parseDate(condition, path: "\(path).\(field.rawValue)"))
        }
        if let reference = object["property"] {
            guard let name = reference.stringValue else {
                throw .validation("\(path).property should be a string, instead was `\(reference.serializedString())`.")
            }
            guard let property = source.property(reference: name) else {
                throw .validation("Could not find property with name or id: \(name)")
            }
            let typeKeys = object.keys.filter { $0 != "property" }
            guard typeKeys.count == 1, let typeKey = typeKeys.first else {
                throw .validation("\(path) should have exactly one filter type besides `property`, e.g. `\(property.kind.type.rawValue)`.")
            }
            let expected = property.kind.type.rawValue
            guard typeKey == expected else {
                throw .validation("\(path).\(typeKey) does not match the type of property \"\(property.name)\", which is `\(expected)`.")
            }
            return .property(property, try parseCondition(object[typeKey]!, property: property, path: "\(path).\(typeKey)"))
        }
        throw .validation("\(path) should be a compound filter (`and` / `or`), a property filter (`property`) or a timestamp filter (`timestamp`).")
    }

    private func singleOperator(_ json: JSONValue, path: String) throws(APIError) -> (String, JSONValue) {
        guard let object = json.objectValue, object.count == 1, let key = object.keys.first else {
            throw .validation("\(path) should be an object with exactly one condition, instead was `\(json.serializedString())`.")
        }
        return (key, object[key]!)
    }

    private func requireTrue(_ value: JSONValue, path: String) throws(APIError) {
        guard value == .bool(true) else { throw .validation("\(path) should be `true`, instead was `\(value.serializedString())`.") }
    }

    func parseDate(_ json: JSONValue, path: String) throws(APIError) -> DateCondition {
        let (op, value) = try singleOperator(json, path: path)
        if let comparison = DateComparison(rawValue: op) {
            guard let text = value.stringValue else {
                throw .validation("\(path).\(op) should be a string, instead was `\(value.serializedString())`.")
            }
            guard let parsed = relativeDate(text) ?? Timestamp.parse(text) else {
                throw .validation("\(path).\(op) should be a valid ISO 8601 date string, instead was `\(value.serializedString())`.")
            }
            return .compare(comparison, parsed)
        }
        switch op {
        case "is_empty": try requireTrue(value, path: "\(path).is_empty"); return .isEmpty(true)
        case "is_not_empty": try requireTrue(value, path: "\(path).is_not_empty"); return .isEmpty(false)
        case "past_week": return .range(now - 7 * Timestamp.day, now)
        case "past_month": return .range(now - 30 * Timestamp.day, now)
        case "past_year": return .range(now - 365 * Timestamp.day, now)
        case "next_week": return .range(now, now + 7 * Timestamp.day)
        case "next_month": return .range(now, now + 30 * Timestamp.day)
        case "next_year": return .range(now, now + 365 * Timestamp.day)
        case "this_week":
            let today = Timestamp.floorToDay(now)
            let daysSinceMonday = ((today / Timestamp.day + 3) % 7 + 7) % 7
            let monday = today - daysSinceMonday * Timestamp.day
            return .range(monday, monday + 7 * Timestamp.day - 1)
        default:
            throw .validation("\(path).\(op) is not a date filter condition. Use one of equals, before, after, on_or_before, on_or_after, is_empty, is_not_empty, past_week, past_month, past_year, next_week, next_month, next_year, this_week.")
        }
    }

    private func relativeDate(_ text: String) -> Timestamp.Parsed? {
        let today = Timestamp.floorToDay(now)
        let offsets: [String: Millis] = [
            "today": 0, "tomorrow": 1, "yesterday": -1, "one_week_ago": -7, "one_week_from_now": 7,
            "one_month_ago": -30, "one_month_from_now": 30,
        ]
        return offsets[text].map { .day(start: today + $0 * Timestamp.day) }
    }

    func parseCondition(_ json: JSONValue, property: PropertyRecord, path: String) throws(APIError) -> PropertyCondition {
        let (op, value) = try singleOperator(json, path: path)
        let opPath = "\(path).\(op)"
        switch property.kind {
        case .relation:
            switch op {
            case "contains", "does_not_contain":
                guard let text = value.stringValue, let id = IDFormat.parseUUID(text) else {
                    throw .validation("\(opPath) should be a valid uuid, instead was `\(value.serializedString())`.")
                }
                return op == "contains" ? .relationContains(id) : .relationDoesNotContain(id)
            case "is_empty": try requireTrue(value, path: opPath); return .relationEmpty(true)
            case "is_not_empty": try requireTrue(value, path: opPath); return .relationEmpty(false)
            default: throw .validation("\(opPath) is not a relation filter condition. Use contains, does_not_contain, is_empty or is_not_empty.")
            }
        case .title, .richText:
            switch op {
            case "equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with":
                guard let text = value.stringValue else {
                    throw .validation("\(opPath) should be a string, instead was `\(value.serializedString())`.")
                }
                return .text(op, text)
            case "is_empty": try requireTrue(value, path: opPath); return .textEmpty(true)
            case "is_not_empty": try requireTrue(value, path: opPath); return .textEmpty(false)
            default: throw .validation("\(opPath) is not a text filter condition.")
            }
        case .number:
            switch op {
            case "equals", "does_not_equal", "greater_than", "less_than", "greater_than_or_equal_to", "less_than_or_equal_to":
                guard let number = value.doubleValue else {
                    throw .validation("\(opPath) should be a number, instead was `\(value.serializedString())`.")
                }
                return .number(op, number)
            case "is_empty": try requireTrue(value, path: opPath); return .numberEmpty(true)
            case "is_not_empty": try requireTrue(value, path: opPath); return .numberEmpty(false)
            default: throw .validation("\(opPath) is not a number filter condition.")
            }
        case .select:
            switch op {
            case "equals", "does_not_equal":
                guard let text = value.stringValue else {
                    throw .validation("\(opPath) should be a string, instead was `\(value.serializedString())`.")
                }
                return .selectEquals(text, negate: op == "does_not_equal")
            case "is_empty": try requireTrue(value, path: opPath); return .selectEmpty(true)
            case "is_not_empty": try requireTrue(value, path: opPath); return .selectEmpty(false)
            default: throw .validation("\(opPath) is not a select filter condition.")
            }
        case .checkbox:
            guard op == "equals" || op == "does_not_equal", let flag = value.boolValue else {
                throw .validation("\(opPath) is not a checkbox filter condition; use equals or does_not_equal with a boolean.")
            }
            return .checkbox(op == "equals" ? flag : !flag)
        }
    }

    func parseSorts(_ json: JSONValue) throws(APIError) -> [SortSpec] {
        guard let items = json.arrayValue else {
            throw .validation("body.sorts should be an array, instead was `\(json.serializedString())`.")
        }
        guard items.count <= 100 else { throw .validation("body.sorts.length should be ≤ 100, instead was `\(items.count)`.") }
        var sorts: [SortSpec] = []
        for (index, item) in items.enumerated() {
            let path = "body.sorts[\(index)]"
            guard let object = item.objectValue else { throw .validation("\(path) should be an object.") }
            let direction = object["direction"]?.stringValue
            guard direction == "ascending" || direction == "descending" else {
                throw .validation("\(path).direction should be `\"ascending\"` or `\"descending\"`, instead was `\(object["direction"]?.serializedString() ?? "undefined")`.")
            }
            let extra = object.keys.filter { !["direction", "property", "timestamp"].contains($0) }
            guard extra.isEmpty else { throw .validation("\(path).\(extra[0]) should not be present.") }
            if let timestamp = object["timestamp"], object["property"] == nil {
                guard let field = timestamp.stringValue.flatMap(TimestampField.init(rawValue:)) else {
                    throw .validation("\(path).timestamp should be `\"created_time\"` or `\"last_edited_time\"`, instead was `\(timestamp.serializedString())`.")
                }
                sorts.append(SortSpec(target: .timestamp(field), ascending: direction == "ascending"))
            } else if let reference = object["property"]?.stringValue, object["timestamp"] == nil {
                guard let property = source.property(reference: reference) else {
                    throw .validation("Could not find sort property with name or id: \(reference)")
                }
                if case .relation = property.kind {
                    throw .validation("\(path).property: sorting by a relation property is not supported.")
                }
                sorts.append(SortSpec(target: .property(property), ascending: direction == "ascending"))
            } else {
                throw .validation("\(path) should have exactly one of `property` (a string) or `timestamp`.")
            }
        }
        return sorts
    }
}

/// Evaluates filters and sort keys against the workspace.
extension Workspace {
    func matches(_ page: PageRecord, _ filter: FilterNode) -> Bool {
        switch filter {
        case .and(let nodes): return nodes.allSatisfy { matches(page, $0) }
        case .or(let nodes): return nodes.contains { matches(page, $0) }
        case .timestamp(let field, let condition):
            let value = field == .createdTime ? page.createdTime : page.lastEditedTime
            return condition.matches(Timestamp.floorToMinute(value))
        case .property(let property, let condition):
            return matches(page, property, condition)
        }
    }

    private func matches(_ page: PageRecord, _ property: PropertyRecord, _ condition: PropertyCondition) -> Bool {
        switch condition {
        case .relationContains(let id): return visibleRelation(page, property.id).contains(id)
        case .relationDoesNotContain(let id): return !visibleRelation(page, property.id).contains(id)
        case .relationEmpty(let empty): return visibleRelation(page, property.id).isEmpty == empty
        case .textEmpty(let empty): return plainText(page.richText(property.id)).isEmpty == empty
        case .text(let op, let operand):
            let text = plainText(page.richText(property.id))
            let lower = text.lowercased()
            let needle = operand.lowercased()
            switch op {
            case "equals": return text == operand
            case "does_not_equal": return text != operand
            case "contains": return lower.contains(needle)
            case "does_not_contain": return !lower.contains(needle)
            case "starts_with": return lower.hasPrefix(needle)
            case "ends_with": return lower.hasSuffix(needle)
            default: return false
            }
        case .numberEmpty(let empty):
            if case .number(let value?)? = page.values[property.id] { return !empty && value == value }
            return empty
        case .number(let op, let operand):
            guard case .number(let value?)? = page.values[property.id] else { return op == "does_not_equal" }
            switch op {
            case "equals": return value == operand
            case "does_not_equal": return value != operand
            case "greater_than": return value > operand
            case "less_than": return value < operand
            case "greater_than_or_equal_to": return value >= operand
            case "less_than_or_equal_to": return value <= operand
            default: return false
            }
        case .selectEmpty(let empty):
            if case .select(_?)? = page.values[property.id] { return !empty }
            return empty
        case .selectEquals(let name, let negate):
            var current: String?
            if case .select(let optionID?)? = page.values[property.id], case .select(let options) = property.kind {
                current = options.first { $0.id == optionID }?.name
            }
            return (current == name) != negate
        case .checkbox(let expected):
            if case .checkbox(let value)? = page.values[property.id] { return value == expected }
            return !expected
        }
    }

    func rowKey(_ page: PageRecord, sorts: [SortSpec]) -> RowKey {
        RowKey(values: sorts.map { sortValue(page, $0.target) }, created: page.createdTime, id: IDFormat.dashed(page.id))
    }

    private func sortValue(_ page: PageRecord, _ target: SortTarget) -> SortScalar {
        switch target {
        case .timestamp(.createdTime): return .number(Double(page.createdTime))
        case .timestamp(.lastEditedTime): return .number(Double(page.lastEditedTime))
        case .property(let property):
            switch property.kind {
            case .title, .richText:
                let text = plainText(page.richText(property.id))
                return text.isEmpty ? .empty : .string(text.lowercased())
            case .number:
                if case .number(let value?)? = page.values[property.id] { return .number(value) }
                return .empty
            case .checkbox:
                if case .checkbox(true)? = page.values[property.id] { return .number(1) }
                return .number(0)
            case .select(let options):
                if case .select(let optionID?)? = page.values[property.id],
                   let index = options.firstIndex(where: { $0.id == optionID }) {
                    return .number(Double(index))
                }
                return .empty
            case .relation:
                return .empty
            }
        }
    }
}
