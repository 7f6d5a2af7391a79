package web

import (
	"net/http"

	"github.com/peerline/peerline/line/hours"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
}

func newMetrics(lines Lines) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerline_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, &statusCollector{lines: lines})
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

var (
	openDesc = prometheus.NewDesc("peerline_line_open",
		"1 when the line is open, 0 when closed.", []string{"line"}, nil)
	reasonDesc = prometheus.NewDesc("peerline_line_status",
		"The line's current state and reason: 1 for the one in force.", []string{"line", "state", "reason"}, nil)
	queueDesc = prometheus.NewDesc("peerline_queue_callers",
		"Callers on hold waiting for an agent.", []string{"line"}, nil)
	queueWaitDesc = prometheus.NewDesc("peerline_queue_longest_wait_seconds",
		"How long the first caller in the queue has waited; 0 with nobody waiting.", []string{"line"}, nil)
)

// statusCollector computes each line's status at scrape time, so the figures are
// never stale and no timer keeps them up to date.
type statusCollector struct{ lines Lines }

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- reasonDesc
	ch <- queueDesc
	ch <- queueWaitDesc
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, id := range c.lines.IDs() {
		st, err := c.lines.Status(id)
		if err != nil {
			continue
		}
		open := 0.0
		if st.State == hours.Open {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, open, id)
		ch <- prometheus.MustNewConstMetric(reasonDesc, prometheus.GaugeValue, 1, id, string(st.State), string(st.Reason))
		q := c.lines.Queue(id)
		longest := 0.0
		for _, w := range q {
			longest = max(longest, w.Wait)
		}
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(len(q)), id)
		ch <- prometheus.MustNewConstMetric(queueWaitDesc, prometheus.GaugeValue, longest, id)
	}
}
