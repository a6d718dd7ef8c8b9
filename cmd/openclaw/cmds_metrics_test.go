package main

// A command for the metrics scenarios:
//
//	metric SERIES OP NUMBER               check a series' value in the last http answer (stdout)
//	metric SERIES - SERIES2 OP NUMBER     the same for the difference of two series
//
// SERIES is a whole series name with its labels, as scraped:
// 'openclaw_http_requests_total{route="/v1/models",status="200"}'. OP is one
// of == != < <= > >=. A series that is not in the answer fails the check.

import (
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() { scriptCmds["metric"] = cmdMetric }

func cmdMetric(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 && !(len(args) == 5 && args[1] == "-") {
		ts.Fatalf("usage: metric SERIES [- SERIES2] OP NUMBER")
	}
	out := ts.ReadFile("stdout")
	value := func(series string) float64 {
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, series+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				ts.Check(err)
				return f
			}
		}
		ts.Fatalf("metric: no series %s in the answer", series)
		return 0
	}
	got, what := value(args[0]), args[0]
	op, want := args[len(args)-2], args[len(args)-1]
	if len(args) == 5 {
		got -= value(args[2])
		what += " - " + args[2]
	}
	n, err := strconv.ParseFloat(want, 64)
	ts.Check(err)
	var ok bool
	switch op {
	case "==":
		ok = got == n
	case "!=":
		ok = got != n
	case "<":
		ok = got < n
	case "<=":
		ok = got <= n
	case ">":
		ok = got > n
	case ">=":
		ok = got >= n
	default:
		ts.Fatalf("metric: unknown operator %q", op)
	}
	if ok == neg {
		ts.Fatalf("metric: %s is %v, want %s%s %s", what, got, map[bool]string{true: "not "}[neg], op, want)
	}
	ts.Logf("%s = %v", what, got)
}
