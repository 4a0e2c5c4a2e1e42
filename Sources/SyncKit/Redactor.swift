import Foundation

/// Removes secrets from text before it reaches a terminal, a log or the runs table.
/// Defence in depth: errors are written not to contain secrets in the first place.
public struct Redactor: Sendable {
    let secrets: [String]

    public init(_ secrets: [String]) {
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    public func scrub(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }
}
