package channel_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// useCases are the packages that must ask the channel rather than name
// it: the use cases, the HTTP surface and the metrics they record.
var useCases = []string{"send", "ingest", "httpapi", "schedule", "metrics"}

// channelPackages are the packages of concrete channels.
var channelPackages = []string{
	"github.com/parleyhq/parley/shared/whatsapp",
	"github.com/parleyhq/parley/shared/apple",
	"github.com/parleyhq/parley/shared/applepay",
	"github.com/parleyhq/parley/shared/appleauth",
}

// TestUseCasesNameNoChannel fails when a use case decides by naming a
// channel: comparing with message.WhatsApp or message.Apple, spelling a
// channel's name, importing a channel package, or holding a platform's
// error number (five decimal digits or more, like Meta's 131047).
func TestUseCasesNameNoChannel(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, pkg := range useCases {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			name := pkg + "/" + filepath.Base(path)
			for _, p := range concreteChannels(fset, f) {
				t.Errorf("%s: %s", name, p)
			}
		}
	}
	if checked < len(useCases) {
		t.Fatalf("checked %d files; the use cases were not found", checked)
	}
}

// TestTheScanFindsEachForm proves the scan catches what it looks for.
func TestTheScanFindsEachForm(t *testing.T) {
	for _, src := range []string{
		`package p; import "github.com/parleyhq/parley/shared/message"; var _ = message.WhatsApp`,
		`package p; import "github.com/parleyhq/parley/shared/message"; func f(c message.Channel) bool { return c == message.Apple }`,
		`package p; func f(code int) bool { return code == 131047 }`,
		`package p; var ch = "whatsapp"`,
		`package p; import _ "github.com/parleyhq/parley/shared/apple"`,
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(concreteChannels(token.NewFileSet(), f)) == 0 {
			t.Errorf("the scan found nothing in %s", src)
		}
	}
	f, _ := parser.ParseFile(token.NewFileSet(), "p.go", `package p; const limit = 4 << 20; var layout = "2006-01-02"`, 0)
	if ps := concreteChannels(token.NewFileSet(), f); len(ps) > 0 {
		t.Errorf("the scan flagged plain code: %v", ps)
	}
}

// concreteChannels lists where f names a concrete channel.
func concreteChannels(fset *token.FileSet, f *ast.File) []string {
	var found []string
	at := func(n ast.Node, what string) {
		found = append(found, fset.Position(n.Pos()).String()+": "+what)
	}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if slices.Contains(channelPackages, path) {
			at(imp, "imports "+path)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && x.Name == "message" && (n.Sel.Name == "WhatsApp" || n.Sel.Name == "Apple") {
				at(n, "names message."+n.Sel.Name)
			}
		case *ast.BasicLit:
			switch n.Kind {
			case token.INT:
				// Platforms write their codes in decimal; hex is a
				// mask or a code point.
				if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil && v >= 10000 {
					at(n, "holds the number "+n.Value)
				}
			case token.STRING:
				if s, err := strconv.Unquote(n.Value); err == nil && (s == "whatsapp" || s == "apple") {
					at(n, "spells the channel "+n.Value)
				}
			}
		}
		return true
	})
	return found
}
