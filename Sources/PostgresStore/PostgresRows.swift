/// The result of a query: text values in the server's text format, `nil` for SQL NULL.
public struct PostgresRows: Sendable {
    /// Column names, in order.
    public var columns: [String]
    /// One array of values per row, in column order.
    public var rows: [[String?]]
    /// Rows affected by an INSERT/UPDATE/DELETE/COPY, or returned by a SELECT.
    public var affectedRows: Int

    public init(columns: [String], rows: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    /// The value of `column` in row `row`; `nil` for NULL or an unknown column.
    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    /// The first column of the first row, for single-value queries.
    public var scalar: String? {
        rows.first?.first ?? nil
    }
}
