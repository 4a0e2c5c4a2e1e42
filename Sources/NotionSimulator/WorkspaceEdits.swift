import Foundation

/// Edits shared by the builder, the PATCH endpoint and the engine's mutation methods, so that
/// every path keeps both sides of a dual relation in step.
extension Workspace {
    mutating func touch(page pageID: UUID, editor: UUID, now: Millis) {
        guard pages[pageID] != nil else { return }
        pages[pageID]!.lastEditedTime = max(pages[pageID]!.lastEditedTime, now)
        pages[pageID]!.lastEditedBy = editor
    }

    /// Sets a non-relation value.
    mutating func setValue(_ value: StoredValue, page pageID: UUID, property propertyID: String) {
        pages[pageID]!.values[propertyID] = value
        version += 1
    }

    /// Replaces a relation list (duplicates dropped, first occurrence kept). On a dual relation,
    /// the page is removed from targets that were dropped and appended to targets that were added.
    /// `touch` carries who edited and when: nil while building (no edit happened).
    mutating func replaceRelation(page pageID: UUID, property: PropertyRecord, targets: [UUID],
                                  touch: (editor: UUID, now: Millis, otherSide: Bool)?) {
        guard let schema = property.relation else { return }
        var seen = Set<UUID>()
        let newList = targets.filter { seen.insert($0).inserted }
        let oldList = pages[pageID]!.relation(property.id)
        pages[pageID]!.values[property.id] = .relation(newList)
        version += 1
        if let touch { self.touch(page: pageID, editor: touch.editor, now: touch.now) }

        guard let synced = schema.syncedPropertyID else { return }
        let oldSet = Set(oldList)
        let removed = oldList.filter { !seen.contains($0) }
        let added = newList.filter { !oldSet.contains($0) }
        for target in removed where pages[target] != nil {
            var list = pages[target]!.relation(synced)
            list.removeAll { $0 == pageID }
            pages[target]!.values[synced] = .relation(list)
            if let touch, touch.otherSide { self.touch(page: target, editor: touch.editor, now: touch.now) }
        }
        for target in added where pages[target] != nil {
            var list = pages[target]!.relation(synced)
            if !list.contains(pageID) { list.append(pageID) }
            pages[target]!.values[synced] = .relation(list)
            if let touch, touch.otherSide { self.touch(page: target, editor: touch.editor, now: touch.now) }
        }
    }

    /// A fresh property id (decoded form): four characters, some of which need URL-encoding,
    /// like Notion's `:xYz` or `b}>k`.
    mutating func makePropertyID(in dataSourceID: UUID?, special: Bool) -> String {
        let plain = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let specials = Array(":{}>\\%=;^[]|<@`")
        while true {
            var chars = (0..<4).map { _ in
                rng.chance(0.25) ? specials.randomElement(using: &rng)! : plain.randomElement(using: &rng)!
            }
            if special, !chars.contains(where: specials.contains) {
                chars[Int.random(in: 0..<4, using: &rng)] = specials.randomElement(using: &rng)!
            }
            let id = String(chars)
            let taken = dataSourceID.flatMap { dataSources[$0] }?.properties.contains { $0.decodedID == id } ?? false
            if id != "title", !taken { return id }
        }
    }

    mutating func addProperty(_ name: String, kind: PropertyKind, to dataSourceID: UUID, rawID: String?) -> PropertyRecord {
        precondition(dataSources[dataSourceID] != nil, "unknown data source \(dataSourceID)")
        precondition(!dataSources[dataSourceID]!.properties.contains { $0.name == name },
                     "data source already has a property named \(name)")
        let decoded: String
        if kind == .title {
            decoded = "title"
        } else if let rawID {
            precondition(!dataSources[dataSourceID]!.properties.contains { $0.decodedID == rawID }, "duplicate property id")
            decoded = rawID
        } else {
            decoded = makePropertyID(in: dataSourceID, special: kind.type == .relation)
        }
        let record = PropertyRecord(id: PercentEncoding.encode(decoded), decodedID: decoded, name: name, kind: kind)
        dataSources[dataSourceID]!.properties.append(record)
        version += 1
        return record
    }
}
