package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
)

// Chart geometry, in SVG user units; the SVG scales to the page's width.
const (
	chartW, chartH = 720, 240
	chartLeft      = 36 // room for the y axis labels
	chartBottom    = 28 // room for the x axis labels
	chartTop       = 8
)

// barChart draws the calls of each bucket as a bar, the answered part darker,
// as an SVG drawn on the server (no script). Labels are thinned to fit.
func barChart(buckets []line.Bucket) template.HTML {
	most := 1
	for _, b := range buckets {
		most = max(most, b.Calls)
	}
	top := niceCeil(most)
	plotW, plotH := float64(chartW-chartLeft), float64(chartH-chartBottom-chartTop)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Samtal: %d staplar">`, chartW, chartH, len(buckets))
	for _, v := range []int{0, top / 2, top} { // grid lines with their values
		y := float64(chartTop) + plotH - plotH*float64(v)/float64(top)
		fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="ylabel">%d</text>`,
			chartLeft, y, chartW, y, chartLeft-4, y+4, v)
	}
	if len(buckets) == 0 {
		return template.HTML(sb.String() + `</svg>`)
	}
	slot := plotW / float64(len(buckets))
	every := max(1, (len(buckets)+11)/12) // at most about 12 labels
	for i, b := range buckets {
		x := float64(chartLeft) + slot*float64(i) + slot*0.15
		w := slot * 0.7
		bar := func(n int, class string) {
			h := plotH * float64(n) / float64(top)
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"><title>%s: %d</title></rect>`,
				x, float64(chartTop)+plotH-h, w, h, class, template.HTMLEscapeString(label(b.Key)), n)
		}
		bar(b.Calls, "calls")
		bar(b.Answered, "answered")
		if i%every == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d" class="xlabel">%s</text>`, x+w/2, chartH-10, template.HTMLEscapeString(label(b.Key)))
		}
	}
	return template.HTML(sb.String() + `</svg>`)
}

// barList is the same figures as a list with a short bar on each row, for a
// phone: the SVG's text would shrink to half its size at 390 px. Hours without
// calls are left out; days are all shown, a day without calls is news too.
// Bars are SVG rects sized in percent: the page's CSP allows no inline style.
func barList(buckets []line.Bucket) template.HTML {
	most := 1
	for _, b := range buckets {
		most = max(most, b.Calls)
	}
	var sb strings.Builder
	sb.WriteString(`<table class="bars"><tbody>`)
	for _, b := range buckets {
		name, isDay := listLabel(b.Key)
		if !isDay && b.Calls == 0 {
			continue
		}
		n := "0"
		if b.Calls > 0 {
			n = fmt.Sprintf("%d <span>(%d besvarade)</span>", b.Calls, b.Answered)
		}
		fmt.Fprintf(&sb, `<tr><th scope="row">%s</th><td class="bar"><svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">`+
			`<rect width="%.1f" height="10" class="calls"/><rect width="%.1f" height="10" class="answered"/></svg></td>`+
			`<td class="n">%s</td></tr>`,
			template.HTMLEscapeString(name), 100*float64(b.Calls)/float64(most), 100*float64(b.Answered)/float64(most), n)
	}
	sb.WriteString(`</tbody></table>`)
	return template.HTML(sb.String())
}

// listLabel names a bucket in full: "mån 19/11" for a day, "13–14" for an hour.
func listLabel(key string) (string, bool) {
	if d, err := config.ParseDate(key); err == nil {
		return weekdayText(d) + " " + label(key), true
	}
	var h int
	if _, err := fmt.Sscanf(key, "%d", &h); err == nil {
		return fmt.Sprintf("%02d–%02d", h, (h+1)%24), false
	}
	return key, false
}

// label shortens a bucket's key: "2026-05-19" to "19/5", an hour "13" to "13".
func label(key string) string {
	var y, m, d int
	if n, _ := fmt.Sscanf(key, "%d-%d-%d", &y, &m, &d); n == 3 {
		return fmt.Sprintf("%d/%d", d, m)
	}
	return key
}

// niceCeil is the smallest of 2, 4, 10, 20, 40, 100, ... at or above n, so the
// axis halves are whole numbers.
func niceCeil(n int) int {
	for scale := 1; ; scale *= 10 {
		for _, step := range []int{2, 4, 10} {
			if step*scale >= n {
				return step * scale
			}
		}
	}
}
