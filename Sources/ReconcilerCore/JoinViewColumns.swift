/// Column names for the per-relation join views: they say which side is which.
///
/// A join view has three columns: the page that holds the relation, the related page, and
/// `position`. The two page columns are named after the data sources they point into:
///
///     Projects ──Team Members──▶ Members      project_page_id, member_page_id, position
///     Tasks ──Project──▶ Projects             task_page_id, project_page_id, position
///     Projects ──Parent──▶ Projects           from_project_page_id, to_project_page_id, position
///     Projects ──Links──▶ (not shared)        project_page_id, target_page_id, position
///
/// The rule, step by step:
/// 1. Slug the data source's name exactly as `JoinViewNaming.slug` does for view names
///    (lowercase, accents folded, other characters to `_`; "Team Members" → `team_members`).
/// 2. Singularize the slug's last `_`-separated word (`singular(_:)`): "team_members" →
///    "team_member", "categories" → "category", "people" → "person".
/// 3. The column is `<singular>_page_id`. A target data source whose name is unknown (not
///    shared with the integration, or not read yet) gives `target_page_id`.
/// 4. When both sides give the same name (a self-relation, or two data sources whose names
///    singularize alike, e.g. "Task" and "Tasks"), they become `from_<singular>_page_id` and
///    `to_<singular>_page_id`.
/// 5. Length: the singular is cut to 50 bytes (trailing `_` trimmed) before the affixes, so a
///    column is at most 63 bytes, PostgreSQL's identifier limit. Step 4 runs after the cut.
///
/// The names depend on data-source names only: renaming a data source in Notion renames the
/// columns of every view that points into or out of it (PostgreSQL keeps views built on top of
/// them working: columns are renamed, never dropped).
extension JoinViewNaming {
    /// The longest singular kept before `from_` (5 bytes) and `_page_id` (8 bytes) are added.
    public static let maximumColumnStemLength = maximumLength - "from_".utf8.count - "_page_id".utf8.count

    /// The two page columns of a relation's join view: `from` names the page that holds the
    /// relation (in the source data source), `to` the related page (in the target data source).
    /// Deterministic, always distinct, each `[a-z0-9_]`, at most 63 bytes, never `position`.
    ///
    /// - Parameters:
    ///   - sourceDataSourceName: the Notion name of the data source that holds the relation property.
    ///   - targetDataSourceName: the Notion name of the data source the relation points into;
    ///     `nil` when it is unknown (not shared with the integration).
    public static func columns(sourceDataSourceName: String, targetDataSourceName: String?) -> (from: String, to: String) {
        let from = columnStem(sourceDataSourceName)
        let to = targetDataSourceName.map(columnStem) ?? "target"
        if from == to {
            return ("from_" + from + "_page_id", "to_" + to + "_page_id")
        }
        return (from + "_page_id", to + "_page_id")
    }

    /// The singular slug a column is named after, cut to `maximumColumnStemLength` bytes.
    static func columnStem(_ dataSourceName: String) -> String {
        var stem = singular(slug(dataSourceName))
        if stem.utf8.count > maximumColumnStemLength {
            stem = String(stem.prefix(maximumColumnStemLength))  // slugs are ASCII: characters are bytes
            while stem.hasSuffix("_") { stem.removeLast() }
        }
        return stem
    }

    /// Singularizes the last `_`-separated word of a slug, simply and predictably (English only;
    /// no dictionary beyond the few words listed here):
    /// - irregular plurals: people → person, children → child, men → man, women → woman,
    ///   statuses → status;
    /// - left alone: words of three letters or fewer, words with a digit, words ending in
    ///   `ss`, `us` or `is` (class, status, analysis), and news, series, species;
    /// - `ies` → `y` when the word is longer than four letters (categories → category, but ties → tie);
    /// - `sses`, `shes`, `ches`, `xes`, `zzes` lose `es` (classes → class, matches → match, boxes → box);
    /// - any other word ending in `s` loses it (projects → project, members → member, cases → case);
    /// - anything else is kept (team, staff, crew, data).
    public static func singular(_ slug: String) -> String {
        var words = slug.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard let last = words.last else { return slug }
        words[words.count - 1] = singularWord(last)
        return words.joined(separator: "_")
    }

    private static let irregularPlurals: [String: String] = [
        "people": "person", "children": "child", "men": "man", "women": "woman", "statuses": "status",
    ]
    private static let invariantWords: Set<String> = ["news", "series", "species"]

    private static func singularWord(_ word: String) -> String {
        if let singular = irregularPlurals[word] { return singular }
        if word.count <= 3 || invariantWords.contains(word) { return word }
        if word.contains(where: { $0.isNumber }) { return word }
        if word.hasSuffix("ss") || word.hasSuffix("us") || word.hasSuffix("is") { return word }
        if word.hasSuffix("ies") && word.count > 4 { return String(word.dropLast(3)) + "y" }
        for ending in ["sses", "shes", "ches", "xes", "zzes"] where word.hasSuffix(ending) {
            return String(word.dropLast(2))
        }
        if word.hasSuffix("s") { return String(word.dropLast()) }
        return word
    }
}
