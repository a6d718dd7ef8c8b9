package service

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// checkValue refuses what no service file can carry.
func checkValue(what, s string) error {
	if strings.ContainsAny(s, "\x00\n\r") {
		return fmt.Errorf("%s %q holds a line break or NUL, which a service file cannot carry", what, s)
	}
	return nil
}

// renderUnit writes a systemd user unit. Restart=on-failure brings a crashed
// gateway back, except after exit 78 (a config error, which a restart would
// only repeat); KillMode=mixed sends SIGTERM to the gateway alone, so that
// it drains in-flight runs (their tool processes included) within
// TimeoutStopSec.
func renderUnit(spec Spec) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Written by 'openclaw gateway install'; remove it with 'openclaw gateway uninstall'.\n")
	b.WriteString("[Unit]\nDescription=OpenClaw gateway\nDocumentation=man:openclaw-gateway-serve(1)\n\n")
	b.WriteString("[Service]\nType=simple\nExecStart=")
	for i, a := range append([]string{spec.Program}, spec.Args...) {
		if err := checkValue("argument", a); err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(unitWord(a))
	}
	b.WriteByte('\n')
	for _, e := range spec.Env {
		if err := checkValue("environment value of "+e.Name, e.Value); err != nil {
			return nil, err
		}
		// Environment= expands % specifiers but not $ variables.
		fmt.Fprintf(&b, "Environment=%s\n", unitQuote(specifiers.Replace(e.Name+"="+e.Value)))
	}
	b.WriteString("Restart=on-failure\nRestartSec=5\nRestartPreventExitStatus=78\nKillMode=mixed\nTimeoutStopSec=15\n\n")
	b.WriteString("[Install]\nWantedBy=default.target\n")
	return b.Bytes(), nil
}

var specifiers = strings.NewReplacer("%", "%%")

// unitWord renders one word of ExecStart: % specifiers and $ variables are
// escaped, and a word with blanks, quotes or backslashes is quoted.
func unitWord(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return unitQuote(s)
}

// unitQuote double-quotes s with C-style escapes, as systemd reads them.
func unitQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// renderPlist writes a launchd agent. KeepAlive restarts the gateway only
// after a failure, so a clean stop (SIGTERM, exit 0) stays stopped;
// ExitTimeOut gives the drain its time before SIGKILL.
func renderPlist(spec Spec) ([]byte, error) {
	var b bytes.Buffer
	str := func(indent, s string) {
		b.WriteString(indent + "<string>")
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>\n")
	}
	key := func(indent, k string) {
		b.WriteString(indent + "<key>")
		xml.EscapeText(&b, []byte(k))
		b.WriteString("</key>\n")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by 'openclaw gateway install'; remove it with 'openclaw gateway uninstall'. -->
<plist version="1.0">
<dict>
`)
	key("\t", "Label")
	str("\t", Label)
	key("\t", "ProgramArguments")
	b.WriteString("\t<array>\n")
	for _, a := range append([]string{spec.Program}, spec.Args...) {
		if err := checkValue("argument", a); err != nil {
			return nil, err
		}
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	if len(spec.Env) > 0 {
		key("\t", "EnvironmentVariables")
		b.WriteString("\t<dict>\n")
		for _, e := range spec.Env {
			if err := checkValue("environment value of "+e.Name, e.Value); err != nil {
				return nil, err
			}
			key("\t\t", e.Name)
			str("\t\t", e.Value)
		}
		b.WriteString("\t</dict>\n")
	}
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n")
	b.WriteString("\t<key>ThrottleInterval</key>\n\t<integer>5</integer>\n")
	b.WriteString("\t<key>ExitTimeOut</key>\n\t<integer>15</integer>\n")
	if spec.LogFile != "" {
		if err := checkValue("log file", spec.LogFile); err != nil {
			return nil, err
		}
		key("\t", "StandardOutPath")
		str("\t", spec.LogFile)
		key("\t", "StandardErrorPath")
		str("\t", spec.LogFile)
	}
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes(), nil
}
