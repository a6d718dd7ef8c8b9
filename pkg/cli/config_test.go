package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runMain runs a command line in process.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb}, BuildInfo{})
	return code, out.String(), errb.String()
}

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OPENCLAW_STATE_DIR", dir)
	t.Setenv("OPENCLAW_CONFIG_PATH", "")
	t.Setenv("OPENCLAW_LOG_LEVEL", "")
	file := filepath.Join(dir, "openclaw.toml")
	steps := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"config", "file"}, 0, file + "\n", ""},
		{[]string{"config", "validate"}, 0, "Config valid: " + file + " (no file; the defaults apply)\n", ""},
		{[]string{"config", "set", "gateway.port", "19001"}, 0, "Updated gateway.port. Restart a running gateway to apply it.\n", ""},
		{[]string{"config", "set", "gateway.auth.token", "tok"}, 0, "Updated gateway.auth.token. A running gateway applies it live.\n", ""},
		{[]string{"config", "get", "gateway.port"}, 0, "19001\n", ""},
		{[]string{"config", "get", "gateway.auth.token"}, 0, "__OPENCLAW_REDACTED__\n", ""},
		{[]string{"config", "get", "gateway.auth.token", "--show-secrets", "--json"}, 0, "\"tok\"\n", ""},
		{[]string{"config", "get", "gateway.prot"}, 1, "", "error: unknown config key gateway.prot; did you mean gateway.port?\n"},
		{[]string{"config", "get", "agents.list[3]"}, 1, "", "error: Config path not found: agents.list[3]\n"},
		{[]string{"config", "set", "gateway.bind", "wan"}, 1, "", "error: gateway.bind: invalid value \"wan\": allowed values are loopback, lan, custom\n"},
		{[]string{"config", "set", "--strict-json", "gateway.bind", "lan"}, 1, "", "error: value is not valid JSON (--strict-json): invalid character 'l' looking for beginning of value\n"},
		{[]string{"config", "set", "gateway..x", "1"}, 1, "", "error: invalid path \"gateway..x\": empty segment at position 9\n"},
		{[]string{"config", "list"}, 0, "gateway.auth.token = \"__OPENCLAW_REDACTED__\"\ngateway.port = 19001\n", ""},
		{[]string{"config", "list", "--json"}, 0, "{\n  \"gateway.auth.token\": \"__OPENCLAW_REDACTED__\",\n  \"gateway.port\": 19001\n}\n", ""},
		{[]string{"config", "unset", "gateway.port"}, 0, "Removed gateway.port. Restart a running gateway to apply it.\n", ""},
		{[]string{"config", "unset", "gateway.port"}, 1, "", "error: Config path not set: gateway.port (its default is in effect; nothing to remove)\n"},
		{[]string{"config", "validate", "--json"}, 0, "{\n  \"valid\": true,\n  \"path\": \"" + file + "\",\n  \"issues\": []\n}\n", ""},
		{[]string{"config", "get"}, 2, "", "error: accepts 1 arg(s), received 0\nrun 'openclaw config get --help' for usage\n"},
	}
	for _, s := range steps {
		code, out, errs := runMain(t, s.args...)
		if code != s.code || out != s.stdout || errs != s.stderr {
			t.Errorf("openclaw %s\n got %d %q %q\nwant %d %q %q", strings.Join(s.args, " "), code, out, errs, s.code, s.stdout, s.stderr)
		}
	}
}

func TestConfigValidateInvalid(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OPENCLAW_STATE_DIR", "")
	file := filepath.Join(dir, "c.toml")
	t.Setenv("OPENCLAW_CONFIG_PATH", file)
	if code, _, errs := runMain(t, "config", "set", "logging.level", "debug"); code != 0 {
		t.Fatal(errs)
	}
	// Break it behind the CLI's back, as a hand edit would.
	if err := writeTestFile(file, "[logging]\nlevel = \"debug\"\nlevle = 1\n"); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runMain(t, "config", "validate")
	if code != 1 || out != file+":3: unknown config key logging.levle; did you mean logging.level?\n" || errs != "error: config invalid: 1 problem in "+file+"\n" {
		t.Errorf("validate = %d %q %q", code, out, errs)
	}
	code, _, errs = runMain(t, "config", "validate", "--json")
	if code != 1 || errs != "" {
		t.Errorf("validate --json = %d %q", code, errs)
	}
}

func TestKeysHelp(t *testing.T) {
	h := keysHelp()
	for _, want := range []string{
		"  gateway.port  ",
		"int, default 18789, restart\n",
		"  agents.list[].tools.profile  ",
		"minimal|readonly|coding\n",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("keys help lacks %q", want)
		}
	}
	for _, l := range strings.Split(h, "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing blanks: %q", l)
		}
	}
}

func TestCompleteConfigSet(t *testing.T) {
	t.Setenv("OPENCLAW_CONFIG_PATH", filepath.Join(t.TempDir(), "none.toml"))
	got, _ := completeConfigSet(nil, []string{"gateway.auth.mode"}, "to")
	if strings.Join(got, ",") != "token" {
		t.Errorf("mode completion = %q", got)
	}
	got, _ = completeConfigSet(nil, nil, "logging.")
	if strings.Join(got, ",") != "logging.format,logging.level" {
		t.Errorf("path completion = %q", got)
	}
	if got, _ := completeConfigSet(nil, []string{"nope"}, ""); got != nil {
		t.Errorf("unknown key completion = %q", got)
	}
}

func writeTestFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }
