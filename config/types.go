package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "20m", "90s" or "1h30m".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration (write it like 20m, 90s or 1h30m)", n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String prints the shortest form: "20m" rather than "20m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// TimeOfDay is a local wall-clock time "HH:MM".
type TimeOfDay struct{ Hour, Minute int }

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	var t TimeOfDay
	var rest string
	n, _ := fmt.Sscanf(s, "%2d:%2d%s", &t.Hour, &t.Minute, &rest)
	if n != 2 || len(s) != 5 || t.Hour < 0 || t.Minute < 0 || t.Minute > 59 ||
		t.Hour > 24 || (t.Hour == 24 && t.Minute != 0) {
		return TimeOfDay{}, fmt.Errorf("%q is not a time of day", s)
	}
	return t, nil
}

// Minutes is the number of minutes since midnight.
func (t TimeOfDay) Minutes() int { return t.Hour*60 + t.Minute }

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

func (t *TimeOfDay) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseTimeOfDay(n.Value)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func (t TimeOfDay) MarshalYAML() (any, error) { return t.String(), nil }

// Weekday is a day of the week written mon, tue, ... sun.
type Weekday time.Weekday

var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (w *Weekday) UnmarshalYAML(n *yaml.Node) error {
	for i, name := range weekdayNames {
		if strings.EqualFold(n.Value, name) {
			*w = Weekday(i)
			return nil
		}
	}
	return fmt.Errorf("%q is not a day of the week (use mon, tue, wed, thu, fri, sat, sun)", n.Value)
}

func (w Weekday) MarshalYAML() (any, error) { return weekdayNames[w], nil }

func (w Weekday) String() string { return weekdayNames[w] }

func (w Weekday) MarshalText() ([]byte, error) { return []byte(weekdayNames[w]), nil }

func (w *Weekday) UnmarshalText(b []byte) error {
	return w.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: string(b)})
}

// Date is a calendar date "YYYY-MM-DD" without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (write it as YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// In is the start of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays is the date n days later.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday is the day of the week of the date.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDate(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
