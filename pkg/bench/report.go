package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The targets of the gateway (issue 7), printed beside each figure.
const (
	TargetLatencyP50 = 2.3 // gateway p50 / direct p50 at concurrency 1
	TargetLatencyP99 = 3.0
	TargetThroughput = 0.40 // gateway / direct requests per second
	TargetTTFT       = 2.3
	TargetRSSIdle    = 30 << 20
	TargetRSSAfter   = 60 << 20 // after 3,000 requests
	TargetReady      = 150 * time.Millisecond
	TargetOneShot    = 30 * time.Millisecond
)

// Print writes the report as a table: each figure, the direct baseline of
// the same run where there is one, the ratio, and the target.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	if r.StateDir != "" {
		fs := r.StateFS
		if fs == "" {
			fs = "?"
		}
		fmt.Fprintf(w, "gateway state dir: %s (%s); %d requests served by the gateway\n", r.StateDir, fs, r.Requests)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tdirect\tgateway\tadded\tratio\ttarget\t")
	ratioRow := func(name string, d, g time.Duration, target float64) {
		ratio := float64(g) / float64(d)
		added := dur(g - d)
		if g >= d {
			added = "+" + added
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t<= %.1fx %s\t\n", name, dur(d), dur(g), added, ratio, target, mark(ratio <= target))
	}
	if r.LatencyN > 0 {
		ratioRow(fmt.Sprintf("c=1 latency p50 (%d requests)", r.LatencyN), r.DirectP50, r.GatewayP50, TargetLatencyP50)
		ratioRow("c=1 latency p99", r.DirectP99, r.GatewayP99, TargetLatencyP99)
	}
	if r.StreamN > 0 {
		ratioRow(fmt.Sprintf("stream first token p50 (%d)", r.StreamN), r.DirectTTFTP50, r.GatewayTTFT50, TargetTTFT)
	}
	if r.ThroughputN > 0 {
		ratio := r.GatewayRPS / r.DirectRPS
		fmt.Fprintf(tw, "c=%d throughput (%d requests)\t%.0f/s\t%.0f/s\t\t%.0f%%\t>= %.0f%% %s\t\n", r.Concurrency, r.ThroughputN,
			r.DirectRPS, r.GatewayRPS, 100*ratio, 100*TargetThroughput, mark(ratio >= TargetThroughput))
	}
	if r.RSSIdle > 0 {
		fmt.Fprintf(tw, "gateway RSS idle\t\t%s\t\t\t<= %s %s\t\n", mb(r.RSSIdle), mb(TargetRSSIdle), mark(r.RSSIdle <= TargetRSSIdle))
	}
	if r.RSSAfter > 0 {
		fmt.Fprintf(tw, "gateway RSS after %d requests\t\t%s\t\t\t<= %s %s\t\n", r.Requests, mb(r.RSSAfter), mb(TargetRSSAfter), mark(r.RSSAfter <= TargetRSSAfter))
		fmt.Fprintf(tw, "gateway RSS peak\t\t%s\t\t\t\t\n", mb(r.RSSPeak))
	}
	if len(r.StartToReady) > 0 {
		m := median(r.StartToReady)
		fmt.Fprintf(tw, "start to /readyz 200 (median of %d)\t\t%s\t\t\t<= %s %s\t\n", len(r.StartToReady), dur(m), dur(TargetReady), mark(m <= TargetReady))
	}
	if len(r.OneShot) > 0 {
		m := median(r.OneShot)
		fmt.Fprintf(tw, "openclaw agent -m hi, echo (median of %d)\t\t%s\t\t\t<= %s %s\t\n", len(r.OneShot), dur(m), dur(TargetOneShot), mark(m <= TargetOneShot))
	}
	tw.Flush()
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "profile: %s\n", p)
	}
}

func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// dur prints a duration with about three significant digits.
func dur(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	v, unit := float64(d)/float64(time.Microsecond), "µs"
	switch {
	case d >= time.Second:
		v, unit = d.Seconds(), "s"
	case d >= time.Millisecond:
		v, unit = float64(d)/float64(time.Millisecond), "ms"
	}
	prec := 2
	switch {
	case v >= 100:
		prec = 0
	case v >= 10:
		prec = 1
	}
	return sign + strconv.FormatFloat(v, 'f', prec, 64) + unit
}

func mb(b int64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(b)/(1<<20)), ".0") + " MB"
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
