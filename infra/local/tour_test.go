package local

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
)

// tourStep is one numbered step of README's tour: its number and the
// answers README shows under its commands, as patterns of whole lines.
type tourStep struct {
	n       int
	answers []*regexp.Regexp
}

var stepHeader = regexp.MustCompile(`^# (\d+)\. `)

// readmeTour returns the shell block of README's "Five minutes with the
// local stack" that talks to the stack (the one setting P).
func readmeTour(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Five minutes with the local stack\n")
	if !ok {
		t.Fatal(`README.md has no section "Five minutes with the local stack"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, block := range strings.Split(section, "```sh\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.HasPrefix(block, "P=http://127.0.0.1:8080\n") {
			return block
		}
	}
	t.Fatal("README's tour has no shell block starting P=http://127.0.0.1:8080")
	return ""
}

// tourSteps reads the steps of script. An answer is a comment line that
// starts with {, [ or …, where … stands for anything; a line ending in …
// followed by one starting with … is one answer wrapped.
func tourSteps(t *testing.T, script string) []tourStep {
	t.Helper()
	var steps []tourStep
	var pending []string
	flush := func() {
		if len(pending) > 0 {
			steps[len(steps)-1].answers = append(steps[len(steps)-1].answers, answerPattern(strings.Join(pending, "")))
			pending = nil
		}
	}
	for line := range strings.SplitSeq(script, "\n") {
		if m := stepHeader.FindStringSubmatch(line); m != nil {
			flush()
			n, _ := strconv.Atoi(m[1])
			steps = append(steps, tourStep{n: n})
			continue
		}
		text, isComment := strings.CutPrefix(line, "# ")
		isAnswer := isComment && (strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") || strings.HasPrefix(text, "…"))
		switch {
		case len(steps) == 0 || !isAnswer:
			flush()
		case len(pending) > 0 && strings.HasSuffix(pending[len(pending)-1], "…") && strings.HasPrefix(text, "…"):
			pending = append(pending, strings.TrimPrefix(text, "…"))
		default:
			flush()
			pending = append(pending, text)
		}
	}
	flush()
	return steps
}

func answerPattern(s string) *regexp.Regexp {
	parts := strings.Split(s, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// TestReadmeTour runs README's tour exactly as written, with sh and curl,
// against a fresh local stack on a free port, and checks that every step
// answers what README shows under it, in order.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the tour needs %s: %v", tool, err)
		}
	}
	script := readmeTour(t)
	steps := tourSteps(t, script)
	if len(steps) < 9 {
		t.Fatalf("the tour has %d steps, want at least 9", len(steps))
	}
	for i, s := range steps {
		if s.n != i+1 {
			t.Fatalf("step %d is numbered %d", i+1, s.n)
		}
		if len(s.answers) == 0 {
			t.Errorf("step %d shows no answer", s.n)
		}
	}

	st := startStack(t, "embedded", clock.System{})
	// Only the port changes; a marker before each step splits the output.
	var run strings.Builder
	for line := range strings.SplitSeq(strings.Replace(script, "http://127.0.0.1:8080", st.URL, 1), "\n") {
		if m := stepHeader.FindStringSubmatch(line); m != nil {
			run.WriteString("printf '\\n@@step " + m[1] + "\\n'\n")
		}
		run.WriteString(line + "\n")
	}
	// curl ends each answer with a newline, so that each is one line.
	home := t.TempDir()
	if err := os.WriteFile(home+"/.curlrc", []byte("write-out = \"\\n\"\nmax-time = 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", run.String())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "CURL_HOME=" + home}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("the tour stopped: %v\nstderr: %s\nstdout:\n%s", err, stderr.String(), out)
	}

	outputs := strings.Split(string(out), "\n@@step ")[1:]
	if len(outputs) != len(steps) {
		t.Fatalf("%d steps ran, want %d:\n%s", len(outputs), len(steps), out)
	}
	for i, s := range steps {
		lines := strings.Split(strings.TrimSpace(outputs[i]), "\n")[1:] // after the step number
		next := 0
		for _, want := range s.answers {
			for next < len(lines) && !want.MatchString(lines[next]) {
				next++
			}
			if next == len(lines) {
				t.Errorf("step %d: no answer matching %s after the ones before it; it answered:\n%s", s.n, want, strings.Join(lines, "\n"))
				break
			}
			next++
		}
	}
}
