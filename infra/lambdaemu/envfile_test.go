package lambdaemu

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadEnvFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sam := write("env.json", `{"Parameters": {"A": "1", "B": "shared", "N": 5, "T": true},
		"SendFunction": {"B": "send's own"}, "IngestFunction": {"C": "not send's"}}`)
	got, err := ReadEnvFile(sam, "SendFunction")
	if want := []string{"A=1", "B=send's own", "N=5", "T=true"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("SAM form = %v, %v; want %v", got, err, want)
	}
	dot := write(".env", "# local\nA=1\nexport B=\"two words\"\n\nC='x=y'\n")
	got, err = ReadEnvFile(dot, "")
	if want := []string{"A=1", "B=two words", "C=x=y"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("dotenv form = %v, %v; want %v", got, err, want)
	}
	for name, body := range map[string]string{"bad.json": `{"Parameters": {"A": [1]}}`, "bad.env": "just words\n", "broken.json": `{"Parameters":`} {
		if _, err := ReadEnvFile(write(name, body), "SendFunction"); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
