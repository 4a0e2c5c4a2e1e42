public import Foundation

public struct DatabaseHandle: Sendable, Hashable {
    public let id: UUID
    public let name: String
}

public struct DataSourceHandle: Sendable, Hashable {
    public let id: UUID
    public let databaseID: UUID
    /// The name at creation time.
    public let name: String
}

public struct PropertyHandle: Sendable, Hashable {
    public let dataSourceID: UUID
    /// The property id as Notion returns it (URL-encoded), e.g. `%3AxYz`.
    public let id: String
    /// The name at creation time.
    public let name: String
    public let type: PropertyType
}

public struct RelationHandle: Sendable, Hashable {
    /// The relation property on the source data source.
    public let property: PropertyHandle
    /// The synced property on the target, for a dual relation.
    public let synced: PropertyHandle?
}

/// Builds a simulated workspace: databases, data sources, properties, pages and relation lists.
/// Ids and created times come from the seed, so the same calls build the same workspace.
/// Misuse (a handle from another spec, a duplicate name) is a programming error and traps.
public struct WorkspaceSpec: Sendable {
    var model: Workspace
    /// What the workspace is: `demo`, `bench`, `edge-cases`, or `custom`. Shown in the manifest.
    public var label = "custom"

    /// 2026-01-05T09:00:00Z: the default created_time of the first page.
    public static let defaultStartTime = Date(timeIntervalSince1970: 1_767_603_600)

    public init(seed: UInt64 = 1, workspaceName: String = "Simulated Workspace",
                botName: String = "relsync simulator", startTime: Date = WorkspaceSpec.defaultStartTime) {
        model = Workspace(seed: seed, workspaceName: workspaceName, botName: botName,
                          startTime: Timestamp.millis(startTime))
    }

    public var seed: UInt64 { model.seed }
    public var botUserID: UUID { model.botUserID }
    /// The user that pages are created by and that engine mutations are attributed to.
    public var personUserID: UUID { model.defaultEditor }

    // MARK: Structure

    public mutating func addDatabase(_ name: String, shared: Bool = true) -> DatabaseHandle {
        let id = model.rng.uuid()
        let now = model.nextCreatedTime
        model.databases[id] = DatabaseRecord(id: id, name: name, shared: shared, parentPageID: model.rng.uuid(),
                                             createdTime: now, lastEditedTime: now)
        model.databaseOrder.append(id)
        model.version += 1
        return DatabaseHandle(id: id, name: name)
    }

    public mutating func addDataSource(_ name: String, in database: DatabaseHandle,
                                       titleProperty: String = "Name") -> DataSourceHandle {
        precondition(model.databases[database.id] != nil, "unknown database")
        let id = model.rng.uuid()
        let now = model.nextCreatedTime
        model.dataSources[id] = DataSourceRecord(id: id, databaseID: database.id, name: name, properties: [],
                                                 createdTime: now, lastEditedTime: now)
        model.dataSourceOrder.append(id)
        model.databases[database.id]!.dataSourceIDs.append(id)
        _ = model.addProperty(titleProperty, kind: .title, to: id, rawID: nil)
        return DataSourceHandle(id: id, databaseID: database.id, name: name)
    }

    /// A database of the same name holding one data source.
    public mutating func addDataSource(_ name: String, shared: Bool = true,
                                       titleProperty: String = "Name") -> DataSourceHandle {
        let database = addDatabase(name, shared: shared)
        return addDataSource(name, in: database, titleProperty: titleProperty)
    }

    /// The title property every data source has (id `title`).
    public func titleProperty(of dataSource: DataSourceHandle) -> PropertyHandle {
        handle(model.dataSources[dataSource.id]!.titleProperty, in: dataSource.id)
    }

    /// Adds a rich_text, number, select or checkbox property. `rawID` fixes the id (decoded form,
    /// e.g. `:xYz`); otherwise one is drawn from the seed.
    public mutating func addProperty(_ name: String, type: PropertyType, to dataSource: DataSourceHandle,
                                     rawID: String? = nil, options: [String] = []) -> PropertyHandle {
        let kind: PropertyKind
        switch type {
        case .richText: kind = .richText
        case .number: kind = .number
        case .checkbox: kind = .checkbox
        case .select:
            let colors = ["blue", "green", "orange", "red", "purple", "gray", "yellow", "pink", "brown"]
            kind = .select(options: options.enumerated().map { offset, name in
                SelectOption(id: model.makePropertyID(in: nil, special: false), name: name,
                             color: colors[offset % colors.count])
            })
        case .title, .relation:
            preconditionFailure("use addDataSource(titleProperty:) or addRelation for \(type.rawValue)")
        }
        return handle(model.addProperty(name, kind: kind, to: dataSource.id, rawID: rawID), in: dataSource.id)
    }

    /// Adds a relation from `source` to `target`. With `syncedName` it is a dual relation and the
    /// target gains a property of that name pointing back; `target` may equal `source`.
    public mutating func addRelation(_ name: String, from source: DataSourceHandle, to target: DataSourceHandle,
                                     syncedName: String? = nil, rawID: String? = nil,
                                     syncedRawID: String? = nil) -> RelationHandle {
        var forward = model.addProperty(name, kind: .relation(RelationSchema(targetDataSourceID: target.id)),
                                        to: source.id, rawID: rawID)
        guard let syncedName else {
            return RelationHandle(property: handle(forward, in: source.id), synced: nil)
        }
        let back = model.addProperty(
            syncedName,
            kind: .relation(RelationSchema(targetDataSourceID: source.id, syncedPropertyID: forward.id)),
            to: target.id, rawID: syncedRawID)
        forward.kind = .relation(RelationSchema(targetDataSourceID: target.id, syncedPropertyID: back.id))
        let index = model.dataSources[source.id]!.properties.firstIndex { $0.id == forward.id }!
        model.dataSources[source.id]!.properties[index] = forward
        return RelationHandle(property: handle(forward, in: source.id), synced: handle(back, in: target.id))
    }

    // MARK: Pages

    /// Adds a page. Its id and created_time come from the seed; created times advance 12–40 s
    /// per page, so no minute holds more than five pages.
    @discardableResult
    public mutating func addPage(_ title: String, to dataSource: DataSourceHandle) -> UUID {
        precondition(model.dataSources[dataSource.id] != nil, "unknown data source")
        let id = model.rng.uuid()
        let created = model.nextCreatedTime
        model.nextCreatedTime += Millis.random(in: 12_000...40_000, using: &model.rng)
        let edited = created + Millis.random(in: 0...(2 * Timestamp.day), using: &model.rng)
        let author = model.people[Int.random(in: 0..<model.people.count, using: &model.rng)].id
        var page = PageRecord(id: id, dataSourceID: dataSource.id, createdTime: created, createdBy: author,
                              lastEditedTime: edited, lastEditedBy: author)
        page.values["title"] = .richText(title.isEmpty ? [] : [.text(title)])
        model.pages[id] = page
        model.dataSources[dataSource.id]!.pageIDs.append(id)
        model.version += 1
        return id
    }

    @discardableResult
    public mutating func addPages(_ count: Int, to dataSource: DataSourceHandle,
                                  title: (Int) -> String) -> [UUID] {
        (0..<count).map { addPage(title($0), to: dataSource) }
    }

    /// Sets the ordered relation list; for a dual relation, the other side is kept in step
    /// (this page is appended to each new target's list).
    public mutating func setRelation(_ property: PropertyHandle, of page: UUID, to targets: [UUID]) {
        let record = requireProperty(property, page: page, type: .relation)
        let targetSource = record.relation!.targetDataSourceID
        precondition(targets.allSatisfy { model.pages[$0]?.dataSourceID == targetSource },
                     "relation targets must be pages of the target data source")
        model.replaceRelation(page: page, property: record, targets: targets, touch: nil)
    }

    public mutating func setTitle(_ title: String, of page: UUID) {
        setRichText([.text(title)], property: "title", page: page)
    }

    public mutating func setText(_ property: PropertyHandle, of page: UUID, to text: String) {
        setRichText(text.isEmpty ? [] : [.text(text)], property: requireProperty(property, page: page, type: .richText).id,
                    page: page)
    }

    public mutating func setRichText(_ property: PropertyHandle, of page: UUID, to items: [RichTextItem]) {
        let record = requireProperty(property, page: page, type: property.type)
        precondition(record.kind == .title || record.kind == .richText, "not a text property")
        setRichText(items, property: record.id, page: page)
    }

    public mutating func setNumber(_ property: PropertyHandle, of page: UUID, to value: Double?) {
        let record = requireProperty(property, page: page, type: .number)
        model.setValue(.number(value), page: page, property: record.id)
    }

    public mutating func setCheckbox(_ property: PropertyHandle, of page: UUID, to value: Bool) {
        let record = requireProperty(property, page: page, type: .checkbox)
        model.setValue(.checkbox(value), page: page, property: record.id)
    }

    public mutating func setSelect(_ property: PropertyHandle, of page: UUID, to option: String?) {
        let record = requireProperty(property, page: page, type: .select)
        guard case .select(let options) = record.kind else { return }
        let optionID = option.map { name in
            guard let found = options.first(where: { $0.name == name }) else {
                preconditionFailure("no select option \(name)")
            }
            return found.id
        }
        model.setValue(.select(optionID), page: page, property: record.id)
    }

    public mutating func trashPage(_ page: UUID) {
        precondition(model.pages[page] != nil, "unknown page")
        model.pages[page]!.inTrash = true
        model.version += 1
    }

    // MARK: Lookups

    public var databases: [DatabaseHandle] {
        model.databaseOrder.map { DatabaseHandle(id: $0, name: model.databases[$0]!.name) }
    }

    public var dataSources: [DataSourceHandle] {
        model.dataSourceOrder.map { id in
            let source = model.dataSources[id]!
            return DataSourceHandle(id: id, databaseID: source.databaseID, name: source.name)
        }
    }

    public func dataSource(named name: String) -> DataSourceHandle? {
        dataSources.first { $0.name == name }
    }

    /// A property by name, encoded id or decoded id.
    public func property(_ reference: String, in dataSource: DataSourceHandle) -> PropertyHandle? {
        model.dataSources[dataSource.id]?.property(reference: reference).map { handle($0, in: dataSource.id) }
    }

    public func properties(of dataSource: DataSourceHandle) -> [PropertyHandle] {
        model.dataSources[dataSource.id]?.properties.map { handle($0, in: dataSource.id) } ?? []
    }

    /// Page ids in creation order.
    public func pages(in dataSource: DataSourceHandle) -> [UUID] {
        model.dataSources[dataSource.id]?.pageIDs ?? []
    }

    public func title(of page: UUID) -> String { model.title(of: page) }

    /// The stored relation list (including targets a client cannot see).
    public func relation(_ property: PropertyHandle, of page: UUID) -> [UUID] {
        model.pages[page]?.relation(property.id) ?? []
    }

    public func createdTime(of page: UUID) -> Date? {
        model.pages[page].map { Timestamp.date($0.createdTime) }
    }

    // MARK: Helpers

    private func handle(_ record: PropertyRecord, in dataSourceID: UUID) -> PropertyHandle {
        PropertyHandle(dataSourceID: dataSourceID, id: record.id, name: record.name, type: record.kind.type)
    }

    private func requireProperty(_ property: PropertyHandle, page: UUID, type: PropertyType) -> PropertyRecord {
        guard let record = model.pages[page] else { preconditionFailure("unknown page \(page)") }
        precondition(record.dataSourceID == property.dataSourceID, "page \(page) is not in that data source")
        guard let found = model.dataSources[property.dataSourceID]!.property(id: property.id), found.kind.type == type else {
            preconditionFailure("property \(property.name) is not of type \(type.rawValue)")
        }
        return found
    }

    private mutating func setRichText(_ items: [RichTextItem], property propertyID: String, page: UUID) {
        precondition(model.pages[page] != nil, "unknown page \(page)")
        model.setValue(.richText(items), page: page, property: propertyID)
    }
}
