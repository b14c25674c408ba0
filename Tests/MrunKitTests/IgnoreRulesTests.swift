import MrunKit
import Testing

/// Rules from one root `.gitignore`, without the built-in defaults, so each test sees only its patterns.
private func rules(_ gitignore: String) -> IgnoreRules {
    var rules = IgnoreRules(defaultPatterns: [])
    rules.addIgnoreFile(contents: gitignore, directory: "")
    return rules
}

struct IgnoreRulesTests {
    @Test func defaultPatternsIgnoreToolingLeftovers() {
        let rules = IgnoreRules()
        #expect(rules.isIgnored(".git", isDirectory: true))
        #expect(rules.isIgnored("sub/.git/config", isDirectory: false))
        #expect(rules.isIgnored("pkg/__pycache__", isDirectory: true))
        #expect(rules.isIgnored("pkg/mod.pyc", isDirectory: false))
        #expect(rules.isIgnored("deep/er/.DS_Store", isDirectory: false))
        #expect(!rules.isIgnored("pkg/mod.py", isDirectory: false))
        #expect(!rules.isIgnored("mod.pyc.txt", isDirectory: false))
        #expect(!rules.isIgnored("__pycache__", isDirectory: false), "`__pycache__/` only matches directories")
    }

    @Test func blankLinesCommentsAndEscapes() {
        let rules = rules("\n# secret.txt\n\\#hash.txt\n\\!bang.txt\n   \n")
        #expect(!rules.isIgnored("# secret.txt", isDirectory: false))
        #expect(!rules.isIgnored("secret.txt", isDirectory: false))
        #expect(rules.isIgnored("#hash.txt", isDirectory: false))
        #expect(rules.isIgnored("!bang.txt", isDirectory: false))
        #expect(!rules.isIgnored("bang.txt", isDirectory: false))
    }

    @Test func trailingSpacesAreTrimmedUnlessEscaped() {
        let rules = rules("plain.txt   \nspaced\\ \ncrlf.txt\r\n")
        #expect(rules.isIgnored("plain.txt", isDirectory: false))
        #expect(rules.isIgnored("spaced ", isDirectory: false))
        #expect(!rules.isIgnored("spaced", isDirectory: false))
        #expect(rules.isIgnored("crlf.txt", isDirectory: false))
    }

    @Test func lastMatchingPatternWins() {
        let reincluded = rules("*.log\n!keep.log\n")
        #expect(reincluded.isIgnored("other.log", isDirectory: false))
        #expect(!reincluded.isIgnored("keep.log", isDirectory: false))
        #expect(!reincluded.isIgnored("sub/keep.log", isDirectory: false))

        let excludedAgain = rules("!keep.log\n*.log\n")
        #expect(excludedAgain.isIgnored("keep.log", isDirectory: false))
    }

    @Test func fileInsideExcludedDirectoryCannotBeReincluded() {
        let blocked = rules("build/\n!build/keep.txt\n")
        #expect(blocked.isIgnored("build/keep.txt", isDirectory: false))

        // Excluding the directory's content instead of the directory leaves room to re-include.
        let allowed = rules("build/*\n!build/keep.txt\n")
        #expect(!allowed.isIgnored("build", isDirectory: true))
        #expect(!allowed.isIgnored("build/keep.txt", isDirectory: false))
        #expect(allowed.isIgnored("build/other.txt", isDirectory: false))
    }

    @Test func trailingSlashMatchesDirectoriesOnly() {
        let rules = rules("logs/\n")
        #expect(rules.isIgnored("logs", isDirectory: true))
        #expect(rules.isIgnored("a/logs", isDirectory: true))
        #expect(!rules.isIgnored("logs", isDirectory: false))
    }

    @Test func slashAnchorsPatternToIgnoreFileDirectory() {
        let rules = rules("/todo.txt\ndoc/*.txt\nnotes.md\n")
        #expect(rules.isIgnored("todo.txt", isDirectory: false))
        #expect(!rules.isIgnored("sub/todo.txt", isDirectory: false))
        #expect(rules.isIgnored("doc/a.txt", isDirectory: false))
        #expect(!rules.isIgnored("doc/deeper/a.txt", isDirectory: false))
        #expect(!rules.isIgnored("sub/doc/a.txt", isDirectory: false))
        #expect(rules.isIgnored("notes.md", isDirectory: false))
        #expect(rules.isIgnored("a/b/notes.md", isDirectory: false))
    }

    @Test func wildcardsAndBracketsDoNotCrossSlashes() {
        let rules = rules("src/*.py\nsrc/a?c\n[abc].txt\n[x-z]*.dat\n[!m]ode\n[^n]et\n[[:digit:]]x\n")
        #expect(rules.isIgnored("src/main.py", isDirectory: false))
        #expect(!rules.isIgnored("src/pkg/main.py", isDirectory: false))
        #expect(rules.isIgnored("src/abc", isDirectory: false))
        #expect(!rules.isIgnored("src/a/c", isDirectory: false))
        #expect(rules.isIgnored("b.txt", isDirectory: false))
        #expect(!rules.isIgnored("d.txt", isDirectory: false))
        #expect(rules.isIgnored("y1.dat", isDirectory: false))
        #expect(!rules.isIgnored("w1.dat", isDirectory: false))
        #expect(rules.isIgnored("code", isDirectory: false))
        #expect(!rules.isIgnored("mode", isDirectory: false))
        #expect(rules.isIgnored("get", isDirectory: false))
        #expect(!rules.isIgnored("net", isDirectory: false))
        #expect(rules.isIgnored("7x", isDirectory: false))
        #expect(!rules.isIgnored("ax", isDirectory: false))
    }

    @Test func leadingDoubleStarMatchesAtAnyDepth() {
        let rules = rules("**/cache\n**/foo/bar\n")
        #expect(rules.isIgnored("cache", isDirectory: false))
        #expect(rules.isIgnored("a/b/cache", isDirectory: true))
        #expect(rules.isIgnored("foo/bar", isDirectory: false))
        #expect(rules.isIgnored("x/y/foo/bar", isDirectory: false))
        #expect(!rules.isIgnored("foo/baz/bar", isDirectory: false))
    }

    @Test func trailingDoubleStarMatchesEverythingInsideButNotTheDirectory() {
        let rules = rules("data/**\n!data/keep.csv\n")
        #expect(!rules.isIgnored("data", isDirectory: true))
        #expect(rules.isIgnored("data/big.csv", isDirectory: false))
        #expect(rules.isIgnored("data/x/y.csv", isDirectory: false))
        #expect(!rules.isIgnored("data/keep.csv", isDirectory: false))
        #expect(!rules.isIgnored("other/data/big.csv", isDirectory: false))
    }

    @Test func middleDoubleStarMatchesZeroOrMoreDirectories() {
        let rules = rules("a/**/b\n")
        #expect(rules.isIgnored("a/b", isDirectory: false))
        #expect(rules.isIgnored("a/x/b", isDirectory: false))
        #expect(rules.isIgnored("a/x/y/b", isDirectory: false))
        #expect(!rules.isIgnored("a/xb", isDirectory: false))
        #expect(!rules.isIgnored("z/a/b", isDirectory: false))
    }

    @Test func doubleStarInsideAComponentActsLikeSingleStar() {
        let rules = rules("x/a**b\n")
        #expect(rules.isIgnored("x/aqqb", isDirectory: false))
        #expect(!rules.isIgnored("x/a/c/b", isDirectory: false))
    }

    @Test func doubleStarAfterLiteralPrefixFollowsGitQuirk() {
        // git strips the wildcard-free prefix `y/a` first, so the rest `**/b` counts as a leading `**/`.
        let rules = rules("y/a**/b\n")
        #expect(rules.isIgnored("y/ab", isDirectory: false))
        #expect(rules.isIgnored("y/aq/b", isDirectory: false))
        #expect(rules.isIgnored("y/aq/r/b", isDirectory: false))
        #expect(!rules.isIgnored("y/q/b", isDirectory: false))
    }

    @Test func malformedPatternsNeverMatch() {
        let rules = rules("[abc\ntrailing\\\n[[:nope:]]\n")
        #expect(!rules.isIgnored("[abc", isDirectory: false))
        #expect(!rules.isIgnored("a", isDirectory: false))
        #expect(!rules.isIgnored("trailing\\", isDirectory: false))
        #expect(!rules.isIgnored("trailing", isDirectory: false))
        #expect(!rules.isIgnored("n", isDirectory: false))
    }

    @Test func nestedIgnoreFileAppliesBelowItsDirectoryRelativeToIt() {
        var rules = IgnoreRules(defaultPatterns: [])
        rules.addIgnoreFile(contents: "*.log\n", directory: "")
        rules.addIgnoreFile(contents: "/local.txt\n!keep.log\nscratch/\n", directory: "sub")
        #expect(rules.isIgnored("sub/local.txt", isDirectory: false))
        #expect(!rules.isIgnored("local.txt", isDirectory: false))
        #expect(!rules.isIgnored("sub/deeper/local.txt", isDirectory: false))
        #expect(!rules.isIgnored("sub/keep.log", isDirectory: false), "the deeper file overrides the root one")
        #expect(rules.isIgnored("keep.log", isDirectory: false))
        #expect(rules.isIgnored("sub/scratch/x", isDirectory: false))
        #expect(!rules.isIgnored("scratch/x", isDirectory: false))
    }

    @Test func overridesTakePrecedenceOverEveryIgnoreFile() {
        var rules = IgnoreRules()
        rules.addIgnoreFile(contents: "*.ckpt\n", directory: "")
        rules.addIgnoreFile(contents: "*.bin\n", directory: "models")
        rules.setOverrides(contents: "!final.ckpt\n!models/tiny.bin\nwandb/\n")
        #expect(!rules.isIgnored("final.ckpt", isDirectory: false))
        #expect(rules.isIgnored("epoch1.ckpt", isDirectory: false))
        #expect(!rules.isIgnored("models/tiny.bin", isDirectory: false))
        #expect(rules.isIgnored("models/huge.bin", isDirectory: false))
        #expect(rules.isIgnored("wandb", isDirectory: true))
    }
}
