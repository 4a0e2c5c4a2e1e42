/// A problem with the configuration file or its environment. Always exit code 78.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The config file, when the problem is in one.
    public var file: String?
    /// The 1-based line in that file, when known.
    public var line: Int?
    /// One sentence naming what is wrong (never a secret).
    public var message: String

    public init(file: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (file, line) {
        case let (file?, line?): return "\(file):\(line): \(message)"
        case let (file?, nil): return "\(file): \(message)"
        default: return message
        }
    }
}
