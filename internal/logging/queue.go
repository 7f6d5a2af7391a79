package logging

import (
	"bufio"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Queue takes the logger's events and writes them, in order, from a goroutine
// of its own: laid out, masked and in as few writes as it can. A call's
// goroutine that logs only copies its event; the write, often to a pipe whose
// reader must wake, was up to a tenth of the time from a caller's INVITE to the
// agent's, and a log output that stopped reading (a journal that hangs, a
// terminal paused) would have stopped every call at its next line.
//
// An error waits until it is written (at most errorWait), as it may explain
// what happens next; other events do not wait. While more than queueMax bytes
// wait, events are dropped and counted, and the count is logged once the
// output takes lines again.
type Queue struct {
	sink *bufio.Writer
	out  io.Writer // lays out and masks, then writes to sink

	mu      sync.Mutex
	events  [][]byte
	bytes   int
	dropped int
	written chan struct{} // closed once the events now waiting are written
	closed  bool

	wake    chan struct{} // one pending wake-up at most; closed by Close
	stopped chan struct{} // closed when the writer has ended
}

const (
	queueMax  = 1 << 20
	errorWait = 100 * time.Millisecond
)

// newQueue starts the writer: format builds what lays events out and masks
// them on their way to w.
func newQueue(w io.Writer, format func(io.Writer) io.Writer) *Queue {
	sink := bufio.NewWriterSize(w, 64<<10)
	q := &Queue{sink: sink, out: format(sink), written: make(chan struct{}),
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go q.run()
	return q
}

// Write queues one event of unknown level (zerolog passes levels to WriteLevel).
func (q *Queue) Write(p []byte) (int, error) { return q.WriteLevel(zerolog.NoLevel, p) }

// WriteLevel queues one event; an error or worse waits until it is written.
func (q *Queue) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return q.writeClosed(p)
	}
	if q.bytes+len(p) > queueMax {
		q.dropped++
		q.mu.Unlock()
		return len(p), nil
	}
	q.events = append(q.events, append([]byte(nil), p...))
	q.bytes += len(p)
	written := q.written
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	q.mu.Unlock()
	if level >= zerolog.ErrorLevel && level <= zerolog.PanicLevel {
		t := time.NewTimer(errorWait)
		defer t.Stop()
		select {
		case <-written:
		case <-t.C: // the output is stuck: the error waits with the rest
		}
	}
	return len(p), nil
}

// Close writes what waits and ends the writer; later events are written
// directly.
func (q *Queue) Close() error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.wake)
	}
	q.mu.Unlock()
	<-q.stopped
	return nil
}

// writeClosed writes p directly, once the writer has written its last batch
// (Close may still be waiting for it): the two never write at once.
func (q *Queue) writeClosed(p []byte) (int, error) {
	<-q.stopped
	q.mu.Lock()
	defer q.mu.Unlock()
	q.out.Write(p)
	return len(p), q.sink.Flush()
}

func (q *Queue) run() {
	defer close(q.stopped)
	for range q.wake {
		q.drain()
	}
	q.drain()
}

// drain writes batches until none waits.
func (q *Queue) drain() {
	for {
		q.mu.Lock()
		batch, written, dropped := q.events, q.written, q.dropped
		if len(batch) == 0 && dropped == 0 {
			q.mu.Unlock()
			return
		}
		q.events, q.bytes, q.dropped = nil, 0, 0
		q.written = make(chan struct{})
		q.mu.Unlock()

		for _, e := range batch {
			q.out.Write(e) // zerolog too drops an event its output refuses
		}
		if dropped > 0 {
			l := zerolog.New(q.out).With().Timestamp().Logger()
			l.Warn().Int("events", dropped).Msg("log events dropped: the log output did not keep up")
		}
		q.sink.Flush()
		close(written)
	}
}
