import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// The files in cron/ that users copy: the systemd units load, and the crontab lines run the
/// real binary exactly as cron would.
@Suite struct CronTests {
    // MARK: - systemd

    static let systemdUnits = ["relsync.service", "relsync.timer", "relsync-full.service", "relsync-full.timer"]

    @Test(.enabled(if: CronFiles.systemdAnalyze != nil, "systemd-analyze is not installed"))
    func systemdUnitsVerify() async throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: CronFiles.directory.path)
            .filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }
        #expect(Set(present) == Set(Self.systemdUnits))
        var units: [String: String] = [:]
        for name in present { units[name] = try CronFiles.text(name) }
        let problems = try await SystemdVerifier.problems(units)
        #expect(problems == [], "systemd-analyze verify: \(problems.joined(separator: "\n"))")

        // What the units must say, beyond parsing.
        let service = units["relsync.service"] ?? ""
        let full = units["relsync-full.service"] ?? ""
        for unit in [service, full] {
            let exec = SystemdVerifier.values("ExecStart", in: unit)
            #expect(exec.count == 1)
            #expect(exec.first?.contains(" reconcile ") == true)
            #expect(exec.first?.contains(" --summary ") == true, "the journal keeps each run's summary")
            #expect(exec.first?.contains("--config /etc/relsync/relsync.yaml") == true)
            #expect(exec.first?.contains("--metrics-file /var/lib/node_exporter/textfile_collector/relsync.prom") == true)
            #expect(SystemdVerifier.values("Type", in: unit) == ["oneshot"])
            #expect(SystemdVerifier.values("EnvironmentFile", in: unit) == ["/etc/relsync/relsync.env"])
            #expect(SystemdVerifier.values("User", in: unit) == ["relsync"])
            #expect(SystemdVerifier.values("ReadWritePaths", in: unit) == ["/var/lib/node_exporter/textfile_collector"])
            for hardening in ["NoNewPrivileges", "ProtectHome", "PrivateTmp"] {
                #expect(SystemdVerifier.values(hardening, in: unit) == ["yes"], "\(hardening)")
            }
            #expect(SystemdVerifier.values("ProtectSystem", in: unit) == ["strict"])
        }
        #expect(SystemdVerifier.values("ExecStart", in: service).first?.contains("--full") == false)
        #expect(SystemdVerifier.values("ExecStart", in: full).first?.contains(" --full --wait 3600 ") == true)
        // An overlap is no failure for the 15-minute run; the nightly sweep waits, and a lock
        // still held after the wait is a failure.
        #expect(SystemdVerifier.values("SuccessExitStatus", in: service) == ["75"])
        #expect(SystemdVerifier.values("SuccessExitStatus", in: full) == [])
        for timer in ["relsync.timer", "relsync-full.timer"] {
            #expect(SystemdVerifier.values("Persistent", in: units[timer] ?? "") == ["true"], "\(timer)")
        }

        // The schedules mean what the README says: every 15 minutes, and once a day.
        let every = try await SystemdVerifier.elapses(SystemdVerifier.values("OnCalendar", in: units["relsync.timer"] ?? "").first ?? "")
        #expect(zip(every, every.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 900 }, "\(every)")
        let nightly = try await SystemdVerifier.elapses(SystemdVerifier.values("OnCalendar", in: units["relsync-full.timer"] ?? "").first ?? "")
        #expect(zip(nightly, nightly.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 86_400 }, "\(nightly)")
        #expect(every.count == 3 && nightly.count == 3)
    }

    /// The check above is only worth something if it fails on a broken unit: systemd-analyze
    /// merely warns ("ignoring") about unknown keys and bad values, and exits 0.
    @Test(.enabled(if: CronFiles.systemdAnalyze != nil, "systemd-analyze is not installed"),
          arguments: [
              ("misspelled key", "NoNewPrivileges=yes", "NoNewPrivilegs=yes"),
              ("bad value", "Type=oneshot", "Type=oneshoot"),
              ("bad time span", "TimeoutStartSec=2h", "TimeoutStartSec=two hours"),
              ("broken section header", "[Service]", "[Service"),
              ("setting refused for oneshot", "SuccessExitStatus=75", "RestartForceExitStatus=75"),
              ("missing binary", "ExecStart=/usr/local/bin/relsync", "ExecStart=/nonexistent/relsync"),
          ])
    func systemdVerifyCatchesABrokenUnit(_ name: String, _ original: String, _ broken: String) async throws {
        let service = try CronFiles.text("relsync.service")
        #expect(service.contains(original), "relsync.service no longer contains \(original)")
        var units = ["relsync.service": service.replacingOccurrences(of: original, with: broken)]
        units["relsync.timer"] = try CronFiles.text("relsync.timer")
        if name == "missing binary" {
            // The check substitutes the built binary; keep the broken path this once.
            let problems = try await SystemdVerifier.problems(units, substituteBinary: false)
            #expect(!problems.isEmpty, "\(name) passed")
        } else {
            #expect(try await !SystemdVerifier.problems(units).isEmpty, "\(name) passed")
        }
    }

    @Test(.enabled(if: CronFiles.systemdAnalyze != nil, "systemd-analyze is not installed"))
    func systemdVerifyCatchesABrokenTimer() async throws {
        let timer = try CronFiles.text("relsync.timer")
        let units = [
            "relsync.service": try CronFiles.text("relsync.service"),
            "relsync.timer": timer.replacingOccurrences(of: "OnCalendar=*:00/15", with: "OnCalendar=*:00/15x"),
        ]
        #expect(timer.contains("OnCalendar=*:00/15"))
        #expect(try await !SystemdVerifier.problems(units).isEmpty)
    }

    // MARK: - cron

    @Test func crontabHasTwoEntriesWithoutStrayPercentSigns() throws {
        let text = try CronFiles.text("relsync.crontab")
        #expect(text.hasSuffix("\n"), "cron ignores a last line without a newline")
        let crontab = try Crontab(text)
        #expect(crontab.entries.count == 2)
        let incremental = try #require(crontab.entries.first { !$0.command.contains("--full") })
        let full = try #require(crontab.entries.first { $0.command.contains(" --full ") })
        #expect(incremental.schedule == ["*/15", "*", "*", "*", "*"])
        #expect(full.schedule.count == 5 && full.schedule[2...] == ["*", "*", "*"], "daily: \(full.schedule)")
        #expect(full.command.contains(" --full --wait 3600 "))
        for entry in crontab.entries {
            #expect(entry.user == "relsync")
            #expect(entry.stdin == nil, "an unescaped % cuts the command: \(entry.raw)")
            #expect(entry.command.hasPrefix("set -a; . /etc/relsync/relsync.env; set +a; "))
            #expect(entry.command.contains("--metrics-file /var/lib/node_exporter/textfile_collector/relsync.prom"))
        }
        #expect(crontab.environment["PATH"]?.split(separator: ":").first == "/usr/local/bin")
        #expect(crontab.environment["SHELL"] == "/bin/sh")

        // The parser itself: cron's % rules.
        let parsed = try Crontab("* * * * * u printf '\\%s' a%line1%line2\n")
        #expect(parsed.entries.first?.command == "printf '%s' a")
        #expect(parsed.entries.first?.stdin == "line1\nline2")
    }

    @Test(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
    func crontabLinesRunAsCronWould() async throws {
        let crontab = try Crontab(
            try CronFiles.text("relsync.crontab")
                .replacingOccurrences(of: "/usr/local/bin", with: URL(fileURLWithPath: E2E.relsync).deletingLastPathComponent().path))
        let incremental = try #require(crontab.entries.first { !$0.command.contains("--full") })
        let full = try #require(crontab.entries.first { $0.command.contains(" --full ") })

        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 21, DemoParameters(projects: 12, members: 60, tasks: 8, tags: 3, everyoneSize: 40,
                                                          exactSizes: [25, 26])),
                configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let home = scenario.dir.appendingPathComponent("home")
            let textfiles = scenario.dir.appendingPathComponent("textfile_collector")
            for dir in [home, textfiles] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
            let metrics = textfiles.appendingPathComponent("relsync.prom").path
            let envFile = scenario.dir.appendingPathComponent("relsync.env").path
            try CronFiles.writeEnvFile(to: envFile, token: scenario.token)

            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: "  - data_source: \(projects.id)\n", databaseURL: "${DATABASE_URL}")
                let paths = [
                    "/etc/relsync/relsync.env": envFile, "/etc/relsync/relsync.yaml": config,
                    "/var/lib/node_exporter/textfile_collector/relsync.prom": metrics,
                ]
                let cronEnvironment = crontab.jobEnvironment(home: home.path)

                // 1. Every 15 minutes: silent, exit 0, a metrics file that says so.
                let first = try await CronFiles.run(incremental, replacing: paths, environment: cronEnvironment)
                #expect(first.status == 0, "output: \(first.output)")
                #expect(first.output == "", "cron would mail this on every run: \(first.output)")
                let afterFirst = try String(contentsOfFile: metrics, encoding: .utf8)
                #expect(afterFirst.contains("\nrelsync_last_run_success 1\n"), "\(afterFirst)")
                #expect(afterFirst.contains("\nrelsync_last_run_exit_code 0\n"))
                #expect(afterFirst.contains("relsync_edges_added "))
                #expect(!afterFirst.contains(scenario.token))
                let mode = try FileManager.default.attributesOfItem(atPath: metrics)[.posixPermissions] as? Int
                #expect(mode == 0o644)
                #expect(try FileManager.default.contentsOfDirectory(atPath: textfiles.path) == ["relsync.prom"])

                // 2. The nightly sweep.
                let sweep = try await CronFiles.run(full, replacing: paths, environment: cronEnvironment)
                #expect(sweep.status == 0, "output: \(sweep.output)")
                #expect(sweep.output == "", "\(sweep.output)")
                let afterSweep = try String(contentsOfFile: metrics, encoding: .utf8)
                #expect(afterSweep.contains("\nrelsync_last_run_success 1\n"))
                #expect(afterSweep.contains(#"relsync_last_run_info{outcome="succeeded",mode="full"} 1"#), "\(afterSweep)")
                #expect(afterSweep.contains("\nrelsync_edges_added 0\n"), "the sweep after a run changes nothing")

                // 3. Overlap: another run holds the lock. Exit 75 is quiet, becomes 0, and the
                // metrics file is left as the last complete run wrote it.
                let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
                defer { db.close() }
                let lockName = "relsync:\(scenario.schema):ds:\(projects.id)"
                let locked = try await db.query("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", [lockName])
                #expect(locked.scalar == "t")
                let direct = try await runRelsync(
                    ["reconcile", "--config", config, "--metrics-file", metrics],
                    environment: ["NOTION_TOKEN": scenario.token, "DATABASE_URL": E2E.databaseURL])
                try #require(direct.status == 75,
                             "holding \(lockName) should make relsync exit 75 (has Reconciler.lockName changed?): \(direct.stderr)")
                let overlap = try await CronFiles.run(incremental, replacing: paths, environment: cronEnvironment)
                #expect(overlap.status == 0, "output: \(overlap.output)")
                #expect(overlap.output == "", "\(overlap.output)")
                #expect(try String(contentsOfFile: metrics, encoding: .utf8) == afterSweep)
                _ = try await db.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockName])

                // 4. A failure: cron mails the one line, the job exits with relsync's code, and
                // the metrics file says so without the error text.
                let badEnv = scenario.dir.appendingPathComponent("bad.env").path
                try CronFiles.writeEnvFile(to: badEnv, token: "ntn_wrong_token_value_123")
                var badPaths = paths
                badPaths["/etc/relsync/relsync.env"] = badEnv
                let failed = try await CronFiles.run(incremental, replacing: badPaths, environment: cronEnvironment)
                #expect(failed.status == 77, "output: \(failed.output)")
                let lines = failed.output.split(separator: "\n")
                #expect(lines.count == 1 && lines.first?.hasPrefix("relsync: ") == true, "\(failed.output)")
                #expect(!failed.output.contains("ntn_wrong_token_value_123"))
                let afterFailure = try String(contentsOfFile: metrics, encoding: .utf8)
                #expect(afterFailure.contains("\nrelsync_last_run_success 0\n"), "\(afterFailure)")
                #expect(afterFailure.contains("\nrelsync_last_run_exit_code 77\n"))
                #expect(afterFailure.contains("\nrelsync_last_success_timestamp_seconds "))
                #expect(!afterFailure.contains("ntn_wrong") && !afterFailure.contains("refused"))

                // 5. A bad config (here an env file without DATABASE_URL, so ${DATABASE_URL} is
                // unset): exit 78, mailed, and in the metrics too.
                let noURL = scenario.dir.appendingPathComponent("no-url.env").path
                try CronFiles.writeEnvFile(to: noURL, token: scenario.token, databaseURL: nil)
                badPaths["/etc/relsync/relsync.env"] = noURL
                let misconfigured = try await CronFiles.run(incremental, replacing: badPaths, environment: cronEnvironment)
                #expect(misconfigured.status == 78, "output: \(misconfigured.output)")
                #expect(misconfigured.output.split(separator: "\n").count == 1, "\(misconfigured.output)")
                let afterConfigError = try String(contentsOfFile: metrics, encoding: .utf8)
                #expect(afterConfigError.contains("\nrelsync_last_run_exit_code 78\n"), "\(afterConfigError)")
                #expect(afterConfigError.contains("\nrelsync_last_run_success 0\n"))

                // What relsync itself prints on a successful run outside a terminal, asked for
                // its summary (the systemd units pass --summary): a few summary lines on stdout,
                // no progress line, nothing on stderr at the default level.
                let plain = try await runRelsync(
                    ["reconcile", "--summary", "--config", config],
                    environment: ["NOTION_TOKEN": scenario.token, "DATABASE_URL": E2E.databaseURL])
                #expect(plain.status == 0, "\(plain.stderr)")
                #expect(plain.stderr == "", "\(plain.stderr)")
                #expect(!plain.stdout.contains("\r") && !plain.stdout.contains("\u{1B}"))
                #expect(plain.stdout.contains("edges: ") && plain.stdout.split(separator: "\n").count < 12, "\(plain.stdout)")
            }
        }
    }
}

// MARK: - Support

enum CronFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("cron")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static let systemdAnalyze: String? = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// relsync.env.example with the test's secrets, mode 0600 as the README says.
    static func writeEnvFile(to path: String, token: String, databaseURL: String? = E2E.databaseURL) throws {
        var lines: [String] = []
        for line in try text("relsync.env.example").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("NOTION_TOKEN=") {
                lines.append("NOTION_TOKEN=\(token)")
            } else if line.hasPrefix("DATABASE_URL=") {
                if let databaseURL { lines.append("DATABASE_URL='\(databaseURL)'") }
            } else {
                lines.append(String(line))
            }
        }
        #expect(lines.contains { $0.hasPrefix("NOTION_TOKEN=") })
        #expect(lines.contains { $0.hasPrefix("DATABASE_URL=") } == (databaseURL != nil))
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Runs a crontab entry's command as cron does: `/bin/sh -c`, the job's environment only,
    /// stdin from /dev/null, stdout and stderr together (what cron would mail).
    static func run(_ entry: Crontab.Entry, replacing paths: [String: String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        var command = entry.command
        for (original, replacement) in paths {
            #expect(command.contains(original), "the crontab line no longer uses \(original)")
            command = command.replacingOccurrences(of: original, with: replacement)
        }
        return try await runProgram("/bin/sh", ["-c", command], environment: environment)
    }

    static func runProgram(_ executable: String, _ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("cron-output"))
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

/// An /etc/cron.d file: environment assignments and entries with a user column.
struct Crontab {
    struct Entry {
        var raw: String
        var schedule: [String]
        var user: String
        /// The command as cron hands it to the shell: `\%` made `%`, cut at the first bare `%`.
        var command: String
        /// What followed a bare `%` (the job's standard input), if any.
        var stdin: String?
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    var environment: [String: String] = [:]
    var entries: [Entry] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if let equals = trimmed.firstIndex(of: "="),
               trimmed[..<equals].trimmingCharacters(in: .whitespaces).allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
               !trimmed[..<equals].trimmingCharacters(in: .whitespaces).isEmpty {
                environment[trimmed[..<equals].trimmingCharacters(in: .whitespaces)] =
                    trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                continue
            }
            var rest = trimmed[...]
            var fields: [String] = []
            while fields.count < 6 {
                let field = rest.prefix { $0 != " " && $0 != "\t" }
                guard !field.isEmpty else { throw ParseError(description: "too few fields: \(line)") }
                fields.append(String(field))
                rest = rest.dropFirst(field.count).drop { $0 == " " || $0 == "\t" }
            }
            guard !rest.isEmpty else { throw ParseError(description: "no command: \(line)") }
            var command = ""
            var stdin: String?
            var escaped = false
            for character in rest {
                if stdin != nil {
                    stdin!.append(character == "%" ? "\n" : character)
                } else if escaped {
                    if character != "%" { command.append("\\") }
                    command.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "%" {
                    stdin = ""
                } else {
                    command.append(character)
                }
            }
            if escaped { command.append("\\") }
            entries.append(Entry(raw: String(line), schedule: Array(fields[0..<5]), user: fields[5], command: command, stdin: stdin))
        }
    }

    /// What cron gives a job: SHELL, HOME, LOGNAME and a default PATH, then the file's assignments.
    func jobEnvironment(home: String) -> [String: String] {
        var env = ["SHELL": "/bin/sh", "HOME": home, "LOGNAME": "relsync", "PATH": "/usr/bin:/bin"]
        for (key, value) in environment { env[key] = value }
        return env
    }
}

/// `systemd-analyze verify` on copies of unit files, run so that only real problems remain.
enum SystemdVerifier {
    /// Problems with `units` (file name → text): every line systemd-analyze prints about them,
    /// and its exit status. In the copies, ExecStart's binary becomes the built relsync (or
    /// /bin/true) and `User=` / `Group=` go, since this machine has neither /usr/local/bin/relsync
    /// nor the relsync user.
    static func problems(_ units: [String: String], substituteBinary: Bool = true) async throws -> [String] {
        let analyze = try #require(CronFiles.systemdAnalyze)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("units"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = FileManager.default.isExecutableFile(atPath: E2E.relsync) ? E2E.relsync : "/bin/true"
        var paths: [String] = []
        for (name, text) in units.sorted(by: { $0.key < $1.key }) {
            var lines: [String] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("User=") || line.hasPrefix("Group=") { continue }
                if substituteBinary, line.hasPrefix("ExecStart=") {
                    let value = line.dropFirst("ExecStart=".count)
                    let arguments = value.drop { $0 != " " }
                    lines.append("ExecStart=\(binary)\(arguments)")
                } else {
                    lines.append(String(line))
                }
            }
            let path = dir.appendingPathComponent(name).path
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir.path, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""]
        let result = try await CronFiles.runProgram(analyze, ["verify", "--man=no"] + paths, environment: env)
        var problems = result.output.split(separator: "\n").map(String.init).filter { line in
            units.keys.contains { line.contains($0) } || line.contains(dir.path)
        }
        if result.status != 0 { problems.append("systemd-analyze exited \(result.status): \(result.output)") }
        return problems
    }

    /// The values of `key=` lines in a unit's text.
    static func values(_ key: String, in unit: String) -> [String] {
        unit.split(separator: "\n").compactMap { line in
            line.hasPrefix(key + "=") ? String(line.dropFirst(key.count + 1)) : nil
        }
    }

    /// The next three times a calendar expression elapses, from `systemd-analyze calendar`.
    static func elapses(_ expression: String) async throws -> [Date] {
        let analyze = try #require(CronFiles.systemdAnalyze)
        let result = try await CronFiles.runProgram(
            analyze, ["calendar", "--iterations=3", expression], environment: ["PATH": "/usr/bin:/bin", "TZ": "UTC"])
        #expect(result.status == 0, "\(result.output)")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return result.output.split(separator: "\n").compactMap { line -> Date? in
            guard line.contains("Next elapse:") || line.contains("Iter. #") else { return nil }
            let words = line.split(separator: " ")
            guard let day = words.firstIndex(where: { $0.count == 10 && $0.filter { $0 == "-" }.count == 2 }),
                  day + 1 < words.count else { return nil }
            return formatter.date(from: "\(words[day]) \(words[day + 1])")
        }
    }
}
