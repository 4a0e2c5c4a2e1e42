public import Foundation

/// Edits "made in the Notion app" by a person (not the bot), for tests of incremental sync.
/// Each bumps last_edited_time to the clock's now, as Notion does.
extension SimulatorEngine {
    private var editor: UUID { workspace.defaultEditor }

    private func requirePage(_ id: UUID) throws(SimulatorError) -> PageRecord {
        guard let page = workspace.pages[id] else { throw SimulatorError("No page \(IDFormat.dashed(id)).") }
        return page
    }

    private func requireProperty(_ reference: String, of page: PageRecord,
                                 _ types: Set<PropertyType>) throws(SimulatorError) -> PropertyRecord {
        guard let property = workspace.dataSources[page.dataSourceID]!.property(reference: reference) else {
            throw SimulatorError("Page \(IDFormat.dashed(page.id)) has no property \(reference).")
        }
        guard types.contains(property.kind.type) else {
            throw SimulatorError("Property \(property.name) is a \(property.kind.type.rawValue) property.")
        }
        return property
    }

    /// Replaces a relation list (the other side of a dual relation follows).
    public func setRelation(page pageID: UUID, property reference: String, targets: [UUID]) throws(SimulatorError) {
        let page = try requirePage(pageID)
        let property = try requireProperty(reference, of: page, [.relation])
        let targetSource = property.relation!.targetDataSourceID
        for target in targets where workspace.pages[target]?.dataSourceID != targetSource {
            throw SimulatorError("\(IDFormat.dashed(target)) is not a page of the related data source.")
        }
        workspace.replaceRelation(page: pageID, property: property, targets: targets,
                                  touch: (editor, now, configuration.dualRelationWriteTouchesOtherSide))
    }

    /// Appends `target` (or inserts it at `index`) unless it is already there.
    public func addRelationTarget(page pageID: UUID, property reference: String, target: UUID,
                                  at index: Int? = nil) throws(SimulatorError) {
        let page = try requirePage(pageID)
        let property = try requireProperty(reference, of: page, [.relation])
        var list = page.relation(property.id)
        guard !list.contains(target) else { return }
        list.insert(target, at: min(max(0, index ?? list.count), list.count))
        try setRelation(page: pageID, property: reference, targets: list)
    }

    public func removeRelationTarget(page pageID: UUID, property reference: String, target: UUID) throws(SimulatorError) {
        let page = try requirePage(pageID)
        let property = try requireProperty(reference, of: page, [.relation])
        try setRelation(page: pageID, property: reference, targets: page.relation(property.id).filter { $0 != target })
    }

    public func renamePage(_ pageID: UUID, to title: String) throws(SimulatorError) {
        _ = try requirePage(pageID)
        workspace.setValue(.richText(title.isEmpty ? [] : [.text(title)]), page: pageID, property: "title")
        workspace.touch(page: pageID, editor: editor, now: now)
    }

    public func setRichText(page pageID: UUID, property reference: String, items: [RichTextItem]) throws(SimulatorError) {
        let page = try requirePage(pageID)
        let property = try requireProperty(reference, of: page, [.richText, .title])
        workspace.setValue(.richText(items), page: pageID, property: property.id)
        workspace.touch(page: pageID, editor: editor, now: now)
    }

    public func setRichText(page pageID: UUID, property reference: String, text: String) throws(SimulatorError) {
        try setRichText(page: pageID, property: reference, items: text.isEmpty ? [] : [.text(text)])
    }

    public func trashPage(_ pageID: UUID) throws(SimulatorError) {
        try setTrash(pageID, true)
    }

    public func restorePage(_ pageID: UUID) throws(SimulatorError) {
        try setTrash(pageID, false)
    }

    private func setTrash(_ pageID: UUID, _ inTrash: Bool) throws(SimulatorError) {
        _ = try requirePage(pageID)
        workspace.pages[pageID]!.inTrash = inTrash
        workspace.version += 1
        workspace.touch(page: pageID, editor: editor, now: now)
    }

    /// Deletes a page for good (as emptying it from the trash does): every later request about
    /// it is 404 `object_not_found`, and relations that pointed at it no longer show it.
    public func deletePage(_ pageID: UUID) {
        guard let page = workspace.pages.removeValue(forKey: pageID) else { return }
        journalState.record(.pageDeleted)
        workspace.dataSources[page.dataSourceID]?.pageIDs.removeAll { $0 == pageID }
        for (id, other) in workspace.pages {
            for (propertyID, value) in other.values {
                if case .relation(let list) = value, list.contains(pageID) {
                    workspace.pages[id]!.values[propertyID] = .relation(list.filter { $0 != pageID })
                }
            }
        }
        workspace.version += 1
    }

    public func setArchived(_ pageID: UUID, _ archived: Bool) throws(SimulatorError) {
        _ = try requirePage(pageID)
        workspace.pages[pageID]!.isArchived = archived
        workspace.version += 1
        workspace.touch(page: pageID, editor: editor, now: now)
    }

    /// Renames a property; its id (and so a client keyed on ids) is unchanged.
    public func renameProperty(dataSource sourceID: UUID, property reference: String, to name: String) throws(SimulatorError) {
        guard let source = workspace.dataSources[sourceID] else {
            throw SimulatorError("No data source \(IDFormat.dashed(sourceID)).")
        }
        guard let property = source.property(reference: reference) else {
            throw SimulatorError("Data source \(source.name) has no property \(reference).")
        }
        guard !source.properties.contains(where: { $0.name == name && $0.id != property.id }) else {
            throw SimulatorError("Data source \(source.name) already has a property named \(name).")
        }
        let index = source.properties.firstIndex { $0.id == property.id }!
        workspace.dataSources[sourceID]!.properties[index].name = name
        workspace.dataSources[sourceID]!.lastEditedTime = now
        workspace.version += 1
    }

    public func renameDataSource(_ sourceID: UUID, to name: String) throws(SimulatorError) {
        guard workspace.dataSources[sourceID] != nil else {
            throw SimulatorError("No data source \(IDFormat.dashed(sourceID)).")
        }
        workspace.dataSources[sourceID]!.name = name
        workspace.dataSources[sourceID]!.lastEditedTime = now
        workspace.version += 1
    }

    /// A new page, created now by a person.
    @discardableResult
    public func createPage(in sourceID: UUID, title: String) throws(SimulatorError) -> UUID {
        guard workspace.dataSources[sourceID] != nil else {
            throw SimulatorError("No data source \(IDFormat.dashed(sourceID)).")
        }
        let id = workspace.rng.uuid()
        var page = PageRecord(id: id, dataSourceID: sourceID, createdTime: now, createdBy: editor,
                              lastEditedTime: now, lastEditedBy: editor)
        page.values["title"] = .richText(title.isEmpty ? [] : [.text(title)])
        workspace.pages[id] = page
        workspace.dataSources[sourceID]!.pageIDs.append(id)
        workspace.version += 1
        return id
    }

    /// The current title of a page, as a client would read it.
    public func title(of pageID: UUID) -> String { workspace.title(of: pageID) }

    /// A page's last_edited_time as the API shows it (rounded down to the minute).
    public func lastEditedTime(of pageID: UUID) -> Date? {
        workspace.pages[pageID].map { Timestamp.date(Timestamp.floorToMinute($0.lastEditedTime)) }
    }

    /// The stored rich-text value of a page's property, complete (a page object may show less:
    /// at most 25 mentions).
    public func storedRichText(page pageID: UUID, property reference: String) -> [RichTextItem] {
        guard let page = workspace.pages[pageID],
              let property = workspace.dataSources[page.dataSourceID]?.property(reference: reference) else { return [] }
        return page.richText(property.id)
    }

    /// The stored relation list (including targets a client cannot see).
    public func storedRelation(page pageID: UUID, property reference: String) -> [UUID] {
        guard let page = workspace.pages[pageID],
              let property = workspace.dataSources[page.dataSourceID]?.property(reference: reference) else { return [] }
        return page.relation(property.id)
    }
}
