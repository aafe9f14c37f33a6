package infra_test

// The repository stands on its own: its code, documents and fixtures cite
// the platforms' own pages and the repository's own files, never notes kept
// outside it. This test reads every tracked file and fails, naming the file
// and the line, on a mention of such notes.

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// outsideNote is one way of citing notes kept outside the repository.
type outsideNote struct {
	what string
	re   *regexp.Regexp
	// markdown limits the pattern to Markdown files, where it cannot be
	// mistaken for code (an index expression such as x[I]).
	markdown bool
}

// outsideNotes are built from pieces so that this file does not match them
// itself.
var outsideNotes = []outsideNote{
	{what: "a path into the notes outside the repository", re: literal("shared/" + "specs")},
	{what: "a section of an outside specification", re: literal("spec " + "§")},
	{what: "an absolute path of the machine the repository was checked out on", re: literal("/" + "work/")},
	{what: "a path leading out of the repository", re: literal("../" + "shared")},
	{what: "an outside style guide", re: literal("STYLE" + ".md")},
	{what: "outside seed material", re: literal("seeds" + "/")},
	{what: "an outside design document (the repository's own is docs/ARCHITECTURE.md)", re: literal("DESIGN" + ".md")},
	{what: "an open question of an outside specification", re: regexp.MustCompile(`§\s*\d+(\.\d+)*\s*Q\d+`)},
	{what: "an evidence tag of an outside specification", markdown: true,
		re: regexp.MustCompile(`\[(I|O|A|V|S)(\]|[,/:] ?[^\]\n]*\]| [a-z][^\]\n]*\])`)},
}

func literal(s string) *regexp.Regexp { return regexp.MustCompile(regexp.QuoteMeta(s)) }

// repoRoot is the repository's top directory, the parent of infra/.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// trackedFiles lists the files git tracks under root; without git (an
// unpacked archive) it walks root, leaving out dot directories and bin/.
func trackedFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, filepath.FromSlash(f))
			}
		}
		if len(files) > 0 {
			return files
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// findOutsideNotes returns one "file:line: …" finding per matching line of
// the file rel under root. Binary files (a NUL byte) are skipped.
func findOutsideNotes(root, rel string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, nil
	}
	markdown := strings.EqualFold(filepath.Ext(rel), ".md")
	var found []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), len(b)+1)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		for _, o := range outsideNotes {
			if o.markdown && !markdown {
				continue
			}
			if m := o.re.FindString(line); m != "" {
				found = append(found, fmt.Sprintf("%s:%d: %q cites %s", filepath.ToSlash(rel), n, m, o.what))
			}
		}
	}
	return found, sc.Err()
}

func TestRepositoryCitesNoOutsideNotes(t *testing.T) {
	root := repoRoot(t)
	files := trackedFiles(t, root)
	if len(files) < 100 {
		t.Fatalf("found %d files under %s; the repository has hundreds", len(files), root)
	}
	for _, rel := range files {
		found, err := findOutsideNotes(root, rel)
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, f := range found {
			t.Error(f)
		}
	}
}

// TestOutsideNotesAreFound plants each kind of citation in a file and checks
// that it is reported with its file and line, and that the repository's own
// ways of citing pass.
func TestOutsideNotesAreFound(t *testing.T) {
	planted := []string{
		"References are to " + "shared/" + "specs" + "/whatsapp-cloud-api.md.",
		"The token is decrypted as spec " + "§3.8 says.",
		"See /" + "work/shared/notes.",
		"Read ../" + "shared/DESIGN notes.",
		"Follow STYLE" + ".md.",
		"Copied from seeds" + "/apple.",
		"DESIGN" + ".md §4 explains the flow.",
		"Whether AUTH2 keeps it (§7 " + "Q3) is open.",
		"| Row ids | unique | [" + "I] |",
		"| Quick reply [" + "O, unverified] | … |",
		"| counts [" + "V/S] |",
		"| Shipping contact [" + "A shape, I redaction keys] |",
		"| product [" + "S: older Meta reference] |",
	}
	clean := []string{
		"The design is in docs/ARCHITECTURE.md.",
		"Meta's \"Interactive list messages\" page gives 4096.",
		"See [Authentication codes](#authentication-codes) and [Inbound](#inbound).",
		"RFC 9110 §15.5 names the status.",
		"The workspace holds shared/whatsapp/testdata/order.json.",
	}
	dir := t.TempDir()
	var body strings.Builder
	for _, l := range clean {
		body.WriteString(l + "\n")
	}
	first := len(clean) + 1
	for _, l := range planted {
		body.WriteString(l + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	found, err := findOutsideNotes(dir, "NOTES.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range planted {
		want := fmt.Sprintf("NOTES.md:%d: ", first+i)
		hit := false
		for _, f := range found {
			hit = hit || strings.HasPrefix(f, want)
		}
		if !hit {
			t.Errorf("line %d %q was not reported; findings: %q", first+i, l, found)
		}
	}
	for _, f := range found {
		var n int
		fmt.Sscanf(strings.TrimPrefix(f, "NOTES.md:"), "%d", &n)
		if n < first {
			t.Errorf("a clean line was reported: %s", f)
		}
	}
	// Evidence tags count only in Markdown: in code they read as indexes.
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte("v := x[I]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if found, err := findOutsideNotes(dir, "x.go"); err != nil || len(found) != 0 {
		t.Errorf("x.go: findings %q, %v; want none", found, err)
	}
}
